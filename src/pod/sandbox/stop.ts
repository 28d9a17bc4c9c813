import type { PodDeps } from '../deps.ts';
import { stopContainerTask } from '../container/stop.ts';
import { removeSandboxShm } from './files.ts';
import { teardownSandboxNetwork } from './network.ts';
import { stopSandboxTask } from './pause-task.ts';

/** Stops every container of the pod (no grace: kubelet stopped them already), the pause task, the network. */
export async function stopPodSandbox(deps: PodDeps, id: string): Promise<void> {
  const containers = deps.containers.list().filter((c) => c.sandboxId === id);
  await Promise.all(
    containers.map((c) =>
      deps.locks.run(c.id, async () => {
        const current = deps.containers.find(c.id);
        if (current && current.state !== 'CONTAINER_EXITED') await stopContainerTask(deps, current, 0);
      }),
    ),
  );
  await deps.locks.run(id, async () => {
    const sandbox = deps.sandboxes.get(id);
    await stopSandboxTask(deps, id);
    await teardownSandboxNetwork(deps, sandbox);
    removeSandboxShm(deps, id);
    await deps.sandboxes.update(id, (s) => {
      s.state = 'SANDBOX_NOTREADY';
      s.pid = 0;
      s.networkDown = true;
    });
  });
}
