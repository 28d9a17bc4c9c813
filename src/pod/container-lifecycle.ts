// Stopping a container: its stop signal, then SIGKILL once the timeout has passed.
import { constants } from 'node:os';
import { isKind } from '../errors.ts';
import type { ContainerRecord } from '../store/container.ts';
import type { PodDeps } from './deps.ts';
import { killAndReapTask } from './sandbox-lifecycle.ts';
import { timerDelayMs } from '../util/time.ts';

const SIGKILL = 9;

export function signalNumber(name: string): number {
  // String(): a record written before requests were checked may hold the number a client sent.
  const upper = String(name).toUpperCase();
  const normalized = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  const n = (constants.signals as Record<string, number>)[normalized];
  if (n !== undefined) return n;
  const numeric = Number(name);
  return Number.isInteger(numeric) && numeric > 0 && numeric < 65 ? numeric : constants.signals.SIGTERM;
}

export async function stopContainer(deps: PodDeps, container: ContainerRecord, timeoutSeconds: number): Promise<void> {
  const shimTask = deps.shims.get(container.id);
  if (!shimTask || deps.monitor.hasExited(container.id)) {
    await killAndReapTask(deps, container.id);
    return;
  }
  if (timeoutSeconds > 0) {
    const signal = signalNumber(container.stopSignal || 'SIGTERM');
    await shimTask.task.kill(container.id, signal).catch((err: unknown) => {
      if (!isKind(err, 'NotFound')) throw err;
    });
    const exited = await Promise.race([
      deps.monitor.waitForExit(container.id).then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timerDelayMs(timeoutSeconds)).unref()),
    ]);
    if (exited) {
      await killAndReapTask(deps, container.id);
      return;
    }
  }
  await killAndReapTask(deps, container.id, SIGKILL);
}
