import type { PodDeps } from '../deps.ts';
import { removeContainerNow } from '../container/remove.ts';
import { publish } from '../events/publish.ts';
import { removeSandboxFiles } from './files.ts';
import { stopPodSandbox } from './stop.ts';

/** Stops the sandbox if needed, removes its containers, files and record. Unknown ids are fine. */
export async function removePodSandbox(deps: PodDeps, idOrPrefix: string): Promise<void> {
  const sandbox = deps.sandboxes.find(idOrPrefix);
  if (!sandbox) return;
  await stopPodSandbox(deps, sandbox.id);
  for (const c of deps.containers.list().filter((c) => c.sandboxId === sandbox.id))
    await removeContainerNow(deps, c.id);
  await deps.locks.run(sandbox.id, async () => {
    if (!deps.sandboxes.find(sandbox.id)) return;
    // The sandbox's task too when its record stopped telling of it (an exit cut short by a crash).
    await deps.shims.removeTask(sandbox.id, sandbox.handler);
    await removeSandboxFiles(deps, sandbox.id);
    publish(deps, sandbox.id, 'CONTAINER_DELETED_EVENT');
    await deps.sandboxes.delete(sandbox.id);
    deps.names.release(sandbox.name);
    deps.monitor.forgetTask(sandbox.id);
    deps.released();
  });
}
