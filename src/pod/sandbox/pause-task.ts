// The pause task: the sandbox's own process in its handler's shim.
import type { PodDeps } from '../deps.ts';
import { killAndReapTask } from '../task.ts';

export async function stopSandboxTask(deps: PodDeps, id: string): Promise<void> {
  await killAndReapTask(deps, id);
}
