// StopContainer's core, shared with RemoveContainer: stop the task and return once the one exit path
// (task-exits.ts) has recorded the exit, so a status read right after sees EXITED.
import { deadlineExceeded } from '../../errors.ts';
import type { PodDeps } from '../deps.ts';
import { stopContainer } from '../container-lifecycle.ts';

const RECORD_WAIT_MS = 15_000;

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
    const timer = setTimeout(() => done(deadlineExceeded(`the exit of container ${id} was not recorded within ${timeoutMs} ms`)), timeoutMs);
    unsubscribe = deps.events.subscribe((event) => {
      if (event.container_id === id && event.container_event_type === 'CONTAINER_STOPPED_EVENT') done();
    });
    const current = deps.containers.find(id);
    if (!current || current.state === 'CONTAINER_EXITED') done();
  });
}

/**
 * Stops a created or running container (stop signal, then SIGKILL after timeoutSeconds); no-op once
 * exited. A caller that goes away during the grace period ends the stop there (see stopContainer).
 */
export async function stopAndRecord(deps: PodDeps, id: string, timeoutSeconds: number, cancel?: AbortSignal): Promise<void> {
  const container = deps.containers.find(id);
  if (!container || container.state === 'CONTAINER_EXITED') return;
  // Not started: there is no task to stop, and the container stays CREATED, as in containerd.
  if (container.state === 'CONTAINER_CREATED' && !deps.shims.get(id)) return;
  const recorded = exitRecorded(deps, id);
  try {
    // A created task has not run the user's process yet: nothing to be graceful to.
    await stopContainer(deps, container, container.state === 'CONTAINER_CREATED' ? 0 : timeoutSeconds, cancel);
  } catch (err) {
    recorded.catch(() => {});
    throw err;
  }
  await recorded;
}
