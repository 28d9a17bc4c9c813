// StartContainer's verb: create the container's task in its pod's shim (from the spec and snapshot
// CreateContainer made), then start its process. A task that cannot be created or started leaves the
// container EXITED with containerd's StartError; an exit racing the start is left to the exit path.
import { failedPrecondition } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { ContainerRecord } from '../../store/container.ts';
import type { SandboxRecord } from '../../store/sandbox.ts';
import type { ShimTask } from '../../runtime/shim-manager.ts';
import { nowNanos } from '../../util/time.ts';
import type { PodDeps } from '../deps.ts';
import { attachContainerLogs, stdioPaths } from './io.ts';
import { publish } from '../events/publish.ts';
import { killAndReapTask } from '../task.ts';

/** containerd's exit code and reason of a container whose start failed. */
const START_ERROR_EXIT_CODE = 128;

export async function startContainer(deps: PodDeps, idOrPrefix: string, log: Logger): Promise<void> {
  const id = deps.containers.get(idOrPrefix).id;
  await deps.locks.run(id, () => start(deps, id, log));
}

async function start(deps: PodDeps, id: string, log: Logger): Promise<void> {
  const container = deps.containers.get(id);
  if (container.state !== 'CONTAINER_CREATED')
    throw failedPrecondition(`container ${id} is ${container.state}, not CONTAINER_CREATED`);
  const sandbox = deps.sandboxes.find(container.sandboxId);
  if (sandbox?.state !== 'SANDBOX_READY')
    throw failedPrecondition(`pod sandbox ${container.sandboxId} of container ${id} is not ready`);
  let pid: number;
  let shimPid: number;
  // Taken before the start: a process that exits at once has its exit recorded before start returns.
  let startedAt: string;
  try {
    const shimTask = await createTask(deps, container, sandbox);
    shimPid = shimTask.shimPid;
    startedAt = nowNanos();
    ({ pid } = await shimTask.task.start(id));
  } catch (err) {
    await recordStartError(deps, id, err, log);
    throw err;
  }
  // The record's bundle was set by CreateContainer; recovery reaches the task through it, so a crash
  // before this write loses nothing. Not fsynced: what crid wrote survives its own crash in the page
  // cache, and a power loss ends the task anyway (the container may then come back CREATED, as a
  // start that did not finish, instead of RUNNING and exited).
  await deps.containers.update(
    id,
    (c) => {
      c.shimPid = shimPid;
      c.startedAt = startedAt;
      c.pid = pid;
      // The exit path may already have recorded a quick exit; it must stay EXITED.
      if (c.state === 'CONTAINER_CREATED') c.state = 'CONTAINER_RUNNING';
    },
    { durable: false },
  );
  publish(deps, id, 'CONTAINER_STARTED_EVENT');
  log.info({ pid }, 'container started');
}

async function createTask(deps: PodDeps, c: ContainerRecord, sandbox: SandboxRecord): Promise<ShimTask> {
  const fifos = stdioPaths(c.ioDir, c.id, c.config.stdin);
  // The shim opens the FIFOs' write sides blocking: the reader must be there first.
  attachContainerLogs(deps, c);
  return deps.shims.startTask({
    handler: sandbox.handler,
    id: c.id,
    podId: c.sandboxId,
    spec: c.runtimeSpec,
    rootfs: deps.images.snapshotter.mounts(c.id),
    io: { stdin: fifos.stdin, stdout: fifos.stdout, stderr: c.config.tty ? '' : fifos.stderr, terminal: c.config.tty },
  });
}

async function recordStartError(deps: PodDeps, id: string, err: unknown, log: Logger): Promise<void> {
  await killAndReapTask(deps, id).catch((cleanupErr: unknown) =>
    log.warn({ err: cleanupErr }, 'cleanup after a failed start failed'),
  );
  deps.logWriters.get(id)?.finish();
  deps.logWriters.delete(id);
  await deps.containers.update(id, (c) => {
    c.state = 'CONTAINER_EXITED';
    c.finishedAt = nowNanos();
    c.exitCode = START_ERROR_EXIT_CODE;
    c.reason = 'StartError';
    c.message = err instanceof Error ? err.message : String(err);
  });
}
