// Stopping a container: its stop signal, then SIGKILL once the timeout has passed.
import { constants } from 'node:os';
import { canceled } from '../errors.ts';
import type { ContainerRecord } from '../store/container.ts';
import type { PodDeps } from './deps.ts';
import { killAndReapTask, signalTask } from './sandbox-lifecycle.ts';
import { timerDelayMs } from '../util/time.ts';

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
export async function stopContainer(
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
    if (outcome === 'canceled') throw canceled(`stopping container ${container.id} was canceled by the caller before the grace period ended`);
    if (outcome === 'exited') {
      await killAndReapTask(deps, container.id);
      return;
    }
  }
  await killAndReapTask(deps, container.id);
}

/** How the grace period after the stop signal ended: the task exited, the time ran out, or the caller left. */
async function graceOutcome(deps: PodDeps, id: string, timeoutSeconds: number, cancel?: AbortSignal): Promise<'exited' | 'timeout' | 'canceled'> {
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
