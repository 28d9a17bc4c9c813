// CreateContainer's verb: reserve the name, prepare the rootfs from the image, build the spec that
// joins the pod's namespaces, make the stdio FIFOs and record the container; publishes CREATED. The
// task is created by StartContainer, as in containerd: a command that cannot run is a start error,
// not a create error. Every step registers its undo, so a failure leaves nothing behind.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ContainerConfig__Output } from '../../generated/runtime/v1/ContainerConfig.ts';
import type { PodSandboxConfig__Output } from '../../generated/runtime/v1/PodSandboxConfig.ts';
import { failedPrecondition, notFound } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { buildContainerSpec } from '../../oci/container-spec.ts';
import { finishContainerSpec } from './spec-finish.ts';
import { serializeSpec } from '../../oci/spec-types.ts';
import { createStdioFifos } from '../../runtime/fifo.ts';
import type { ImageRecord } from '../../image/image-store.ts';
import type { ContainerRecord } from '../../store/container.ts';
import type { SandboxRecord } from '../../store/sandbox.ts';
import { UndoStack } from '../../util/undo-stack.ts';
import { nowNanos } from '../../util/time.ts';
import type { PodDeps } from '../deps.ts';
import { imageConfigForSpec } from '../image-config.ts';
import { containerIoDir } from './io.ts';
import { containerLogPath } from './log-path.ts';
import { readImageUserFiles } from './user-files.ts';
import { hostDevicesFor, podSharedFiles, requestedDevices, targetPid } from './spec-input.ts';
import { publish } from '../events/publish.ts';
import { containerRootDir, prepareImageVolumes, uncoveredVolumes } from './image-volumes.ts';
import type { Mount__Output } from '../../generated/runtime/v1/Mount.ts';

/** containerd's container name: name_sandboxName_sandboxNamespace_sandboxUid_attempt. */
export function containerName(config: ContainerConfig__Output, sandbox: PodSandboxConfig__Output): string {
  const m = sandbox.metadata!;
  return [config.metadata!.name, m.name, m.namespace, m.uid, String(config.metadata!.attempt)].join('_');
}

/** The stop signal: the config's, else the image's StopSignal, else SIGTERM. */
export function stopSignalFor(config: ContainerConfig__Output, image: ImageRecord): string {
  const requested = config.stop_signal;
  if (requested && requested !== 'RUNTIME_DEFAULT') return requested;
  return image.config.stopSignal || 'SIGTERM';
}

function readySandbox(deps: PodDeps, id: string): SandboxRecord {
  const sandbox = deps.sandboxes.get(id);
  if (sandbox.state !== 'SANDBOX_READY')
    throw failedPrecondition(`pod sandbox ${sandbox.id} is not ready (${sandbox.state})`);
  return sandbox;
}

/** Creates a container in a ready sandbox from a checked config; returns its id. */
export async function createContainer(
  deps: PodDeps,
  sandboxId: string,
  config: ContainerConfig__Output,
  rpcLog: Logger,
): Promise<string> {
  const sandbox = readySandbox(deps, sandboxId);
  const image = deps.images.getImage(config.image!.image);
  if (!image) throw notFound(`image ${JSON.stringify(config.image!.image)} not found`);
  const id = randomBytes(32).toString('hex');
  const log = rpcLog.child({ containerId: id, container: config.metadata!.name });
  const undo = new UndoStack();
  try {
    await deps.locks.run(id, () => create(deps, id, config, sandbox, image, undo, log));
    undo.commit();
    publish(deps, id, 'CONTAINER_CREATED_EVENT');
    log.info('container created');
    return id;
  } catch (err) {
    await undo.unwind(log);
    throw err;
  }
}

async function create(
  deps: PodDeps,
  id: string,
  config: ContainerConfig__Output,
  sandbox: SandboxRecord,
  image: ImageRecord,
  undo: UndoStack,
  log: Logger,
): Promise<void> {
  const cfg = deps.config();
  const name = containerName(config, sandbox.config);
  deps.names.reserve(name, id);
  undo.push('release container name', async () => deps.names.release(name));
  const logPath = containerLogPath(sandbox.config.log_directory, config.log_path);

  deps.images.prepareSnapshot(id, image.id);
  undo.push('remove container snapshot', () => deps.images.snapshotter.remove(id));
  const volumeMounts = await imageVolumes(deps, id, config, image, undo);
  const spec = await finishContainerSpec(
    deps,
    sandbox.handler,
    config,
    buildContainerSpec({
      config: { ...config, mounts: [...(config.mounts ?? []), ...volumeMounts] },
      containerId: id,
      sandboxId: sandbox.id,
      sandboxConfig: sandbox.config,
      sandboxPid: sandbox.pid,
      netnsPath: sandbox.netnsPath || undefined,
      targetPid: targetPid(deps, config, sandbox.id),
      imageName: config.image!.image,
      imageConfig: imageConfigForSpec(image.config),
      userFiles: readImageUserFiles(deps.images, image),
      sandboxFiles: podSharedFiles(deps, sandbox),
      handler: sandbox.handler,
      host: deps.host,
      devices: await requestedDevices(config),
      hostDevices: await hostDevicesFor(config),
      restrictOomScoreAdj: cfg.restrict_oom_score_adj,
    }),
  );

  const ioDir = containerIoDir(cfg.crid.state, id);
  undo.push('remove stdio FIFOs', () => fs.promises.rm(ioDir, { recursive: true, force: true }));
  createStdioFifos(ioDir, id, config.stdin);
  if (logPath) fs.mkdirSync(path.dirname(logPath), { recursive: true, mode: 0o755 });

  const record: ContainerRecord = {
    id,
    sandboxId: sandbox.id,
    name,
    config,
    imageId: image.id,
    imageName: config.image!.image,
    imageRef: image.repoDigests[0] ?? image.id,
    logPath,
    state: 'CONTAINER_CREATED',
    createdAt: nowNanos(),
    startedAt: '0',
    finishedAt: '0',
    pid: 0,
    exitCode: 0,
    reason: '',
    message: '',
    stopSignal: stopSignalFor(config, image),
    ioDir,
    runtimeHandler: sandbox.runtimeHandler,
    bundle: deps.shims.bundleFor(id),
    shimPid: 0,
    process: spec.process,
    cgroupsPath: spec.linux.cgroupsPath ?? '',
    runtimeSpec: serializeSpec(spec),
  };
  // Not fsynced: the record survives a crash of crid in the page cache; after a power loss, which no
  // container outlives, a lost record leaves only a snapshot no record owns, and recovery removes it.
  await deps.containers.put(record, { durable: false });
  log.debug('container recorded');
}

/** The image's VOLUMEs as copied-up host directories, unless the config ignores them. */
async function imageVolumes(
  deps: PodDeps,
  id: string,
  config: ContainerConfig__Output,
  image: ImageRecord,
  undo: UndoStack,
): Promise<Mount__Output[]> {
  const cfg = deps.config();
  if (cfg.ignore_image_defined_volumes) return [];
  const volumes = uncoveredVolumes(image.config.volumes, config.mounts ?? []);
  if (volumes.length === 0) return [];
  const dir = containerRootDir(cfg.crid.root, id);
  undo.push('remove image volumes', () => fs.promises.rm(dir, { recursive: true, force: true }));
  return prepareImageVolumes(deps.images.snapshotter, id, dir, volumes);
}
