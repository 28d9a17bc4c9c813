// Stopping a container: its stop signal, then SIGKILL once the timeout has passed.
import { constants } from 'node:os';
import type { ContainerRecord } from '../store/container.ts';
import type { PodDeps } from './deps.ts';
import { killAndReapTask, signalTask } from './sandbox-lifecycle.ts';

const SIGKILL = 9;

export function signalNumber(name: string): number {
  const normalized = name.toUpperCase().startsWith('SIG') ? name.toUpperCase() : `SIG${name.toUpperCase()}`;
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
    await signalTask(shimTask.task, container.id, signal);
    const exited = await Promise.race([
      deps.monitor.waitForExit(container.id).then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutSeconds * 1000).unref()),
    ]);
    if (exited) {
      await killAndReapTask(deps, container.id);
      return;
    }
  }
  await killAndReapTask(deps, container.id, SIGKILL);
}
