// Stopping a container: its stop signal, then SIGKILL once the timeout has passed. StopContainer's
// core, shared with RemoveContainer, returns once the one exit path (events/task-exits.ts) has
// recorded the exit, so a status read right after sees EXITED.
import { constants } from 'node:os';
import { canceled, deadlineExceeded } from '../../errors.ts';
import type { ContainerRecord } from '../../store/container.ts';
import type { PodDeps } from '../deps.ts';
import { killAndReapTask, signalTask } from '../task.ts';
import { timerDelayMs } from '../../util/time.ts';

const RECORD_WAIT_MS = 15_000;

export function signalNumber(name: string): number {
  // String(): a record written before requests were checked may hold the number a client sent.
  const upper = String(name).toUpperCase();
  const normalized = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  const n = (constants.signals as Record<string, number>)[normalized];
  if (n !== undefined) return n;
  const numeric = Number(name);
  return Number.isInteger(numeric) && numeric > 0 && numeric < 65 ? numeric : constants.signals.SIGTERM;
}

/**
 * `cancel` is the caller's: once it aborts during the grace period the stop ends there, without
 * SIGKILL, as in containerd — kubelet gives up on a stop and tries again with another grace period.
 */
export async function stopContainerTask(
  deps: PodDeps,
  container: ContainerRecord,
  timeoutSeconds: number,
  cancel?: AbortSignal,
): Promise<void> {
  const shimTask = deps.shims.get(container.id);
  if (!shimTask || deps.monitor.hasExited(container.id)) {
    await killAndReapTask(deps, container.id);
    return;
  }
  if (timeoutSeconds > 0) {
    const signal = signalNumber(container.stopSignal || 'SIGTERM');
    await signalTask(shimTask.task, container.id, signal);
    const outcome = await graceOutcome(deps, container.id, timeoutSeconds, cancel);
    if (outcome === 'canceled')
      throw canceled(`stopping container ${container.id} was canceled by the caller before the grace period ended`);
    if (outcome === 'exited') {
      await killAndReapTask(deps, container.id);
      return;
    }
  }
  await killAndReapTask(deps, container.id);
}

/** How the grace period after the stop signal ended: the task exited, the time ran out, or the caller left. */
async function graceOutcome(
  deps: PodDeps,
  id: string,
  timeoutSeconds: number,
  cancel?: AbortSignal,
): Promise<'exited' | 'timeout' | 'canceled'> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort = () => {};
  try {
    return await Promise.race([
      deps.monitor.waitForExit(id).then(() => 'exited' as const),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timerDelayMs(timeoutSeconds)))),
      new Promise<'canceled'>((resolve) => {
        onAbort = () => resolve('canceled');
        if (cancel?.aborted) onAbort();
        else cancel?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    cancel?.removeEventListener('abort', onAbort);
  }
}

/** Resolves when the container's record says EXITED (listening starts now, so no event is missed). */
export function exitRecorded(deps: PodDeps, id: string, timeoutMs = RECORD_WAIT_MS): Promise<void> {
  return new Promise((resolve, reject) => {
    let unsubscribe = () => {};
    const done = (err?: Error) => {
      clearTimeout(timer);
      unsubscribe();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(
      () => done(deadlineExceeded(`the exit of container ${id} was not recorded within ${timeoutMs} ms`)),
      timeoutMs,
    );
    unsubscribe = deps.events.subscribe((event) => {
      if (event.container_id === id && event.container_event_type === 'CONTAINER_STOPPED_EVENT') done();
    });
    const current = deps.containers.find(id);
    if (!current || current.state === 'CONTAINER_EXITED') done();
  });
}

/**
 * Stops a created or running container (stop signal, then SIGKILL after timeoutSeconds); no-op once
 * exited. A caller that goes away during the grace period ends the stop there (see stopContainerTask).
 */
export async function stopAndRecord(
  deps: PodDeps,
  id: string,
  timeoutSeconds: number,
  cancel?: AbortSignal,
): Promise<void> {
  const container = deps.containers.find(id);
  if (!container || container.state === 'CONTAINER_EXITED') return;
  // Not started: there is no task to stop, and the container stays CREATED, as in containerd.
  if (container.state === 'CONTAINER_CREATED' && !deps.shims.get(id)) return;
  const recorded = exitRecorded(deps, id);
  try {
    // A created task has not run the user's process yet: nothing to be graceful to.
    await stopContainerTask(deps, container, container.state === 'CONTAINER_CREATED' ? 0 : timeoutSeconds, cancel);
  } catch (err) {
    recorded.catch(() => {});
    throw err;
  }
  await recorded;
}

/** StopContainer's verb: stop the container under its lock and return once its exit is recorded. */
export async function stopContainer(
  deps: PodDeps,
  idOrPrefix: string,
  timeoutSeconds: number,
  cancel?: AbortSignal,
): Promise<void> {
  const id = deps.containers.get(idOrPrefix).id;
  await deps.locks.run(id, () => stopAndRecord(deps, id, timeoutSeconds, cancel));
}
