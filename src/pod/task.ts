// Killing, reaping and deleting a task, for containers and pause tasks alike: shared by the stop and
// remove verbs, the rollback of a failed RunPodSandbox or StartContainer, and recovery.
import { isKind } from '../errors.ts';
import type { KillOptions, TaskService } from '../runtime/task-service.ts';
import { withTimeout } from '../util/timeout.ts';
import type { PodDeps } from './deps.ts';

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
