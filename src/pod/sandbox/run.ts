// RunPodSandbox's verb: reserve the name, resolve the handler (behind its self-check gate), ensure the
// sandbox image, record the pod, make its netns and start CNI ADD, write its files and mount its
// /dev/shm, then start the pause task; publishes CREATED and STARTED. Every step registers its undo,
// so a failure (or a cancelled client) leaves nothing behind.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { RunPodSandboxRequest__Output } from '../../generated/runtime/v1/RunPodSandboxRequest.ts';
import type { PodSandboxConfig__Output } from '../../generated/runtime/v1/PodSandboxConfig.ts';
import { failedPrecondition, wrap } from '../../errors.ts';
import { podHandlerName, resolveHandler } from '../../config/resolve.ts';
import { sandboxNamespaceModes, type SandboxFiles, type SandboxNamespaceModes } from '../../oci/sandbox-spec.ts';
import type { SandboxRecord } from '../../store/sandbox.ts';
import type { RuntimeHandler } from '../../config/model.ts';
import type { ImageRecord } from '../../image/image-store.ts';
import { instanceNetnsPrefix, netnsPathFor } from '../../network/netns.ts';
import { UndoStack } from '../../util/undo-stack.ts';
import { nowNanos } from '../../util/time.ts';
import { sandboxDir, type PodDeps } from '../deps.ts';
import { publish } from '../events/publish.ts';
import { mountPodShm, removePodShm } from '../shm.ts';
import { writeSandboxFiles } from './files.ts';
import type { Phase, SandboxMaking } from './making.ts';
import { startSandboxNetwork } from './network.ts';
import { startPauseTask } from './pause-task.ts';

/** A RunPodSandbox request whose config the CRI adapter has checked. */
export type SandboxRequest = RunPodSandboxRequest__Output & { config: PodSandboxConfig__Output };

function sandboxName(config: PodSandboxConfig__Output): string {
  const m = config.metadata!;
  return [m.name, m.namespace, m.uid, String(m.attempt)].join('_');
}

/**
 * Starts a pod sandbox, or undoes every step it took and throws. The health gate refuses handlers
 * that failed their self-check; the deep check itself runs without it.
 */
export async function startSandbox(
  deps: PodDeps,
  req: SandboxRequest,
  parentLog: PodDeps['log'],
  opts: { healthGate: boolean },
): Promise<SandboxRecord> {
  const config = req.config;
  const id = randomBytes(32).toString('hex');
  const log = parentLog.child({ podId: id, pod: `${config.metadata!.namespace}/${config.metadata!.name}` });
  const undo = new UndoStack();
  try {
    const record = await createSandbox(deps, id, req, undo, log, opts.healthGate);
    undo.commit();
    // As containerd: kubelet's evented PLEG learns of a new pod from these; STOPPED comes from the exit path.
    publish(deps, id, 'CONTAINER_CREATED_EVENT');
    publish(deps, id, 'CONTAINER_STARTED_EVENT');
    log.info({ handler: record.runtimeHandler, ips: record.ips, pid: record.pid }, 'pod sandbox is ready');
    return record;
  } catch (err) {
    await undo.unwind(log);
    throw err;
  }
}

async function createSandbox(
  deps: PodDeps,
  id: string,
  req: SandboxRequest,
  undo: UndoStack,
  log: PodDeps['log'],
  healthGate: boolean,
): Promise<SandboxRecord> {
  const config = req.config;
  const cfg = deps.config();
  const name = sandboxName(config);
  deps.names.reserve(name, id);
  undo.push('release sandbox name', async () => deps.names.release(name));

  const ns = sandboxNamespaceModes(config.linux?.security_context?.namespace_options ?? null);
  const hostNetwork = ns.network === 'NODE';
  const handler = podHandler(deps, req, ns, healthGate);
  const phase: Phase = (name, work) => deps.timePhase(handler.name, name, work);

  const image = await phase('image_ensure', () => deps.images.ensureImage(cfg.sandbox_image)).catch((err: unknown) => {
    throw wrap(err, `failed to get sandbox image ${JSON.stringify(cfg.sandbox_image)}`);
  });

  // Recorded before the first side effect: recovery removes what a crid killed halfway left behind.
  // Not fsynced: after a power loss, recovery finds what the pod left by listing (orphan snapshots,
  // netns, bundles), not through this record; the READY update below is durable.
  const { netnsPath } = await putPendingRecord(deps, id, name, req, handler, image, hostNetwork);
  undo.push('remove sandbox record', () => deps.sandboxes.delete(id));

  const making: SandboxMaking = { deps, id, config, handler, undo, log, phase };
  const network = startSandboxNetwork(making, netnsPath);
  try {
    const files = makePodFiles(making, ns, hostNetwork);
    const task = await startPauseTask(making, { image, netnsPath, files, network });
    const podIps = await network.ips;
    return await deps.sandboxes.update(id, (s) => {
      s.state = 'SANDBOX_READY';
      s.ips = podIps;
      s.pid = task.pid;
      s.shimPid = task.shimPid;
      s.createdAt = nowNanos();
      delete s.creating;
    });
  } catch (err) {
    await network.ips.catch(() => {});
    throw err;
  }
}

/** The handler the pod runs on: containerd's untrusted-workload rule, the config, the self-check gate. */
function podHandler(
  deps: PodDeps,
  req: SandboxRequest,
  ns: SandboxNamespaceModes,
  healthGate: boolean,
): RuntimeHandler {
  const handlerName = podHandlerName(req.runtime_handler, req.config.annotations, {
    hostNetwork: ns.network === 'NODE',
    hostPid: ns.pid === 'NODE',
    hostIpc: ns.ipc === 'NODE',
  });
  const handler = resolveHandler(deps.config(), handlerName);
  const failed = healthGate ? deps.handlerFailure(handler.name) : undefined;
  if (failed) throw failedPrecondition(`runtime handler "${handler.name}" failed its self-check: ${failed}`);
  return handler;
}

/** Records a pod whose RunPodSandbox has not finished; its netns path is chosen before the netns is made. */
async function putPendingRecord(
  deps: PodDeps,
  id: string,
  name: string,
  req: SandboxRequest,
  handler: RuntimeHandler,
  image: ImageRecord,
  hostNetwork: boolean,
): Promise<SandboxRecord> {
  const record: SandboxRecord = {
    id,
    name,
    config: req.config,
    runtimeHandler: handler.name,
    requestedHandler: req.runtime_handler,
    handler,
    createdAt: nowNanos(),
    state: 'SANDBOX_NOTREADY',
    netnsPath: hostNetwork ? '' : netnsPathFor(instanceNetnsPrefix(deps.config().crid.state)),
    ips: [],
    imageId: image.id,
    imageRef: deps.config().sandbox_image,
    bundle: deps.shims.bundleFor(id),
    pid: 0,
    shimPid: 0,
    creating: true,
  };
  await deps.sandboxes.put(record, { durable: false });
  return record;
}

/** The pod's hostname, hosts and resolv.conf files and its /dev/shm (the host's for host IPC). */
function makePodFiles(m: SandboxMaking, ns: SandboxNamespaceModes, hostNetwork: boolean): SandboxFiles {
  const { deps, id, config, undo } = m;
  const dir = sandboxDir(deps.config(), id);
  undo.push('remove sandbox dir', () => fs.promises.rm(dir, { recursive: true, force: true }));
  const files = writeSandboxFiles(
    dir,
    hostNetwork ? deps.host.hostname : config.hostname,
    config.dns_config,
    hostNetwork,
  );
  const devShm = ns.ipc === 'NODE' ? '/dev/shm' : path.join(dir, 'shm');
  if (ns.ipc !== 'NODE') {
    mountPodShm(devShm);
    undo.push('unmount pod shm', async () => removePodShm(devShm));
  }
  return { hostname: files.hostname, hosts: files.hosts, resolvConf: files.resolvConf, devShm };
}
