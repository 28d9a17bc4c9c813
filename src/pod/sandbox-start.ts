// Starting a pod sandbox: reserve the name, resolve the handler, ensure the sandbox image, make the
// network, build the pause container's spec and start it through the handler's shim. Every step
// registers its undo, so a failure (or a cancelled client) leaves nothing behind.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { RunPodSandboxRequest__Output } from '../generated/runtime/v1/RunPodSandboxRequest.ts';
import type { PodSandboxConfig__Output } from '../generated/runtime/v1/PodSandboxConfig.ts';
import { failedPrecondition, invalidArgument, wrap } from '../errors.ts';
import { podHandlerName, resolveHandler } from '../config/resolve.ts';
import { buildSandboxSpec, checkMetadata, sandboxNamespaceModes } from '../oci/sandbox-spec.ts';
import { withBaseSpec } from '../oci/base-spec.ts';
import { createNetns, instanceNetnsPrefix, netnsPathFor, removeNetns } from '../network/netns.ts';
import { cniSettingsFor, setupPodNetwork, teardownPodNetwork } from '../network/pod-network.ts';
import type { SandboxRecord } from '../store/sandbox.ts';
import type { RuntimeHandler } from '../config/model.ts';
import type { ImageRecord } from '../image/image-store.ts';
import { UndoStack } from '../util/undo-stack.ts';
import { nowNanos } from '../util/time.ts';
import { sandboxDir, type PodDeps } from './deps.ts';
import { writeSandboxFiles } from './sandbox-files.ts';
import { mountPodShm, removePodShm } from './shm.ts';
import { imageConfigForSpec } from './image-config.ts';
import { stopSandboxTask } from './sandbox-lifecycle.ts';
import type { SandboxPhase } from '../metrics/metrics.ts';

function sandboxName(config: PodSandboxConfig__Output): string {
  const m = config.metadata!;
  return [m.name, m.namespace, m.uid, String(m.attempt)].join('_');
}

function checkConfig(config: PodSandboxConfig__Output | null): PodSandboxConfig__Output {
  if (!config) throw invalidArgument('RunPodSandbox: config is required');
  checkMetadata(config);
  return config;
}

/**
 * Starts a pod sandbox, or undoes every step it took and throws. The health gate refuses handlers
 * that failed their self-check; the deep check itself runs without it.
 */
export async function startSandbox(
  deps: PodDeps,
  req: RunPodSandboxRequest__Output,
  parentLog: PodDeps['log'],
  opts: { healthGate: boolean },
): Promise<SandboxRecord> {
  const config = checkConfig(req.config);
  const id = randomBytes(32).toString('hex');
  const log = parentLog.child({ podId: id, pod: `${config.metadata!.namespace}/${config.metadata!.name}` });
  const undo = new UndoStack();
  try {
    const record = await createSandbox(deps, id, req, config, undo, log, opts.healthGate);
    undo.commit();
    log.info({ handler: record.runtimeHandler, ips: record.ips, pid: record.pid }, 'pod sandbox is ready');
    return record;
  } catch (err) {
    await undo.unwind(log);
    throw err;
  }
}

type Phase = <T>(name: SandboxPhase, work: () => Promise<T>) => Promise<T>;

/** What the steps of one RunPodSandbox share. */
interface SandboxMaking {
  deps: PodDeps;
  id: string;
  config: PodSandboxConfig__Output;
  handler: RuntimeHandler;
  undo: UndoStack;
  log: PodDeps['log'];
  phase: Phase;
}

async function createSandbox(
  deps: PodDeps,
  id: string,
  req: RunPodSandboxRequest__Output,
  config: PodSandboxConfig__Output,
  undo: UndoStack,
  log: PodDeps['log'],
  healthGate: boolean,
): Promise<SandboxRecord> {
  const cfg = deps.config();
  const name = sandboxName(config);
  deps.names.reserve(name, id);
  undo.push('release sandbox name', async () => deps.names.release(name));

  const ns = sandboxNamespaceModes(config.linux?.security_context?.namespace_options ?? null);
  const hostNetwork = ns.network === 'NODE';
  const handlerName = podHandlerName(req.runtime_handler, config.annotations, {
    hostNetwork,
    hostPid: ns.pid === 'NODE',
    hostIpc: ns.ipc === 'NODE',
  });
  const handler = resolveHandler(cfg, handlerName);
  const failed = healthGate ? deps.handlerFailure(handler.name) : undefined;
  if (failed) throw failedPrecondition(`runtime handler "${handler.name}" failed its self-check: ${failed}`);
  const phase: Phase = (name, work) => deps.timePhase(handler.name, name, work);

  const image = await phase('image_ensure', () => deps.images.ensureImage(cfg.sandbox_image)).catch((err: unknown) => {
    throw wrap(err, `failed to get sandbox image ${JSON.stringify(cfg.sandbox_image)}`);
  });

  // Recorded before the first side effect: recovery removes what a crid killed halfway left behind.
  const record: SandboxRecord = {
    id,
    name,
    config,
    runtimeHandler: handler.name,
    requestedHandler: req.runtime_handler,
    handler,
    createdAt: nowNanos(),
    state: 'SANDBOX_NOTREADY',
    netnsPath: hostNetwork ? '' : netnsPathFor(instanceNetnsPrefix(cfg.crid.state)),
    ips: [],
    imageId: image.id,
    imageRef: cfg.sandbox_image,
    bundle: deps.shims.bundleFor(id),
    pid: 0,
    shimPid: 0,
    creating: true,
  };
  // Not fsynced: after a power loss, recovery finds what the pod left by listing (orphan snapshots,
  // netns, bundles), not through this record; the READY update below is durable.
  await deps.sandboxes.put(record, { durable: false });
  undo.push('remove sandbox record', () => deps.sandboxes.delete(id));

  const making: SandboxMaking = { deps, id, config, handler, undo, log, phase };
  const netnsPath = record.netnsPath;
  let network: Promise<string[]> = Promise.resolve([]);
  if (!hostNetwork) {
    undo.push('remove netns', () => removeNetns(netnsPath));
    // The netns and its network are made while the pause container's files, rootfs and shim are:
    // only the task needs them.
    network = createNetns(netnsPath).then(() => setUpNetwork(making, netnsPath));
    // Awaited before the task is created or, on a failure, before the undo: never left unobserved.
    network.catch(() => {});
  }
  try {
    return await startPauseTask(making, image, netnsPath, network);
  } catch (err) {
    await network.catch(() => {});
    throw err;
  }
}

/** CNI ADD in the pod's netns; runs while the pause container's files, rootfs and shim are made. */
async function setUpNetwork(m: SandboxMaking, netnsPath: string): Promise<string[]> {
  const { config, log } = m;
  const cni = cniSettingsFor(m.deps.config().cni, m.handler);
  const target = {
    podId: m.id,
    netnsPath,
    podName: config.metadata!.name,
    podNamespace: config.metadata!.namespace,
    podUid: config.metadata!.uid,
  };
  m.undo.push('tear down pod network', () => teardownPodNetwork(cni, target, log));
  const setup = await m.phase('network_setup', () =>
    setupPodNetwork(cni, { ...target, portMappings: config.port_mappings, dns: config.dns_config, annotations: config.annotations }, log),
  );
  return setup.ips;
}

/** Files, /dev/shm, rootfs, spec and shim of the pause container; its task is created once `network` is up. */
async function startPauseTask(m: SandboxMaking, image: ImageRecord, netnsPath: string, network: Promise<string[]>): Promise<SandboxRecord> {
  const { deps, id, config, handler, undo, phase } = m;
  const cfg = deps.config();
  const ns = sandboxNamespaceModes(config.linux?.security_context?.namespace_options ?? null);
  const hostNetwork = ns.network === 'NODE';
  const dir = sandboxDir(cfg, id);
  undo.push('remove sandbox dir', () => fs.promises.rm(dir, { recursive: true, force: true }));
  const files = await writeSandboxFiles(dir, hostNetwork ? deps.host.hostname : config.hostname, config.dns_config, hostNetwork);
  const devShm = ns.ipc === 'NODE' ? '/dev/shm' : path.join(dir, 'shm');
  if (ns.ipc !== 'NODE') {
    await mountPodShm(devShm);
    undo.push('unmount pod shm', () => removePodShm(devShm));
  }

  const rootfs = await deps.images.prepareSnapshot(id, image.id);
  undo.push('remove sandbox snapshot', () => deps.images.snapshotter.remove(id));

  const spec = await withBaseSpec(handler.base_runtime_spec, buildSandboxSpec({
    config,
    sandboxId: id,
    handler,
    imageName: cfg.sandbox_image,
    imageConfig: imageConfigForSpec(image.config),
    netnsPath: netnsPath || undefined,
    files: { hostname: files.hostname, hosts: files.hosts, resolvConf: files.resolvConf, devShm },
    host: deps.host,
    restrictOomScoreAdj: cfg.restrict_oom_score_adj,
    unprivilegedPorts: cfg.enable_unprivileged_ports,
    unprivilegedIcmp: cfg.enable_unprivileged_icmp,
  }));

  const started = await deps.shims.startTask({
    handler,
    id,
    sandboxId: id,
    spec: spec as unknown as Record<string, unknown>,
    rootfs,
    io: { stdin: '', stdout: '', stderr: '', terminal: false },
    time: phase,
    // Only the netns has to exist for the task, but VM shims copy its interfaces when the task is made.
    beforeCreate: () => network,
  });
  undo.push('stop and delete sandbox task', () => stopSandboxTask(deps, id));
  const { pid } = await phase('task_start', () => started.task.start(id));
  const ips = await network;

  return deps.sandboxes.update(id, (s) => {
    s.state = 'SANDBOX_READY';
    s.ips = ips;
    s.pid = pid;
    s.shimPid = started.shimPid;
    s.createdAt = nowNanos();
    delete s.creating;
  });
}
