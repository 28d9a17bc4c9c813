// Stopping and tearing down a pod sandbox: shared by StopPodSandbox, RemovePodSandbox, rollback of a
// failed RunPodSandbox, and recovery.
import fs from 'node:fs';
import path from 'node:path';
import { isKind } from '../errors.ts';
import { removeNetns } from '../network/netns.ts';
import { cniSettingsFor, teardownPodNetwork } from '../network/pod-network.ts';
import type { KillOptions, TaskService } from '../runtime/task-service.ts';
import type { SandboxRecord } from '../store/sandbox.ts';
import { withTimeout } from '../util/undo-stack.ts';
import { sandboxDir, type PodDeps } from './deps.ts';
import { removePodShm } from './shm.ts';

const KILL_WAIT_MS = 10_000;
const SIGKILL = 9;

/**
 * Signals a task's process. Its exit follows even when the signal fails because the process is gone
 * (NotFound) or because its shim died: the shim manager reports a dead shim's tasks exited once it has
 * cleaned up after the shim, so the caller waits for the exit either way.
 */
export async function signalTask(task: TaskService, id: string, signal: number, opts?: KillOptions): Promise<void> {
  await task.kill(id, signal, opts).catch((err: unknown) => {
    if (!isKind(err, 'NotFound') && !task.isClosed()) throw err;
  });
}

/**
 * SIGKILLs a task's init process (if it still runs), waits for its exit, deletes it from its shim. An
 * exit that does not come in time is not waited on further: the task is taken down by force.
 */
export async function killAndReapTask(deps: PodDeps, id: string): Promise<void> {
  const shimTask = deps.shims.get(id);
  if (!shimTask) return;
  // A task being removed has exited; its delete event may already have cleared the recorded exit.
  if (!deps.monitor.hasExited(id) && !deps.shims.isRemoving(id)) {
    await signalTask(shimTask.task, id, SIGKILL, { all: true });
    const exited = await withTimeout(deps.monitor.waitForExit(id), KILL_WAIT_MS, `exit of task ${id}`).then(
      () => true,
      () => false,
    );
    if (!exited) await deps.shims.takeDown(id);
  }
  await deps.shims.removeTask(id);
}

export async function stopSandboxTask(deps: PodDeps, id: string): Promise<void> {
  await killAndReapTask(deps, id);
}

/** Tears down the pod's network and removes its netns; safe to repeat. */
export async function teardownSandboxNetwork(deps: PodDeps, sandbox: SandboxRecord): Promise<void> {
  if (!sandbox.netnsPath) return;
  const m = sandbox.config.metadata!;
  const cni = cniSettingsFor(deps.config().cni, sandbox.handler);
  await teardownPodNetwork(
    cni,
    { podId: sandbox.id, netnsPath: sandbox.netnsPath, podName: m.name, podNamespace: m.namespace, podUid: m.uid },
    deps.log.child({ podId: sandbox.id }),
  );
  await removeNetns(sandbox.netnsPath);
}

export function sandboxShmDir(deps: PodDeps, id: string): string {
  return path.join(sandboxDir(deps.config(), id), 'shm');
}

export async function removeSandboxShm(deps: PodDeps, id: string): Promise<void> {
  await removePodShm(sandboxShmDir(deps, id));
}

/** Removes everything of a stopped sandbox that is left on the host: shm, files, snapshot. */
export async function removeSandboxFiles(deps: PodDeps, id: string): Promise<void> {
  await removeSandboxShm(deps, id);
  await fs.promises.rm(sandboxDir(deps.config(), id), { recursive: true, force: true });
  await deps.images.snapshotter.remove(id);
}
