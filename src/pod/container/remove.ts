import fs from 'node:fs';
import type { PodDeps } from '../deps.ts';
import { stopAndRecord, stopContainerTask } from './stop.ts';
import { publish } from '../events/publish.ts';
import { containerRootDir } from './image-volumes.ts';

/** RemoveContainer's verb: kills a container that still runs, then removes everything of it. Unknown ids succeed. */
export async function removeContainer(deps: PodDeps, idOrPrefix: string): Promise<void> {
  const container = deps.containers.find(idOrPrefix);
  if (!container) return;
  // The exit is recorded (and CONTAINER_STOPPED_EVENT sent) before the record goes.
  await deps.locks.run(container.id, () => stopAndRecord(deps, container.id, 0));
  await removeContainerNow(deps, container.id);
}

/** Removes a container whatever its state: stops it, removes its task, snapshot, FIFOs and record. */
export async function removeContainerNow(deps: PodDeps, id: string): Promise<void> {
  await deps.locks.run(id, async () => {
    const container = deps.containers.find(id);
    if (!container) return;
    if (container.state !== 'CONTAINER_EXITED') await stopContainerTask(deps, container, 0);
    // A task the record no longer tells of (a StartContainer or an exit cut short by a crash) goes too.
    await deps.shims.removeTask(id, deps.sandboxes.find(container.sandboxId)?.handler);
    deps.logWriters.get(id)?.finish();
    deps.logWriters.delete(id);
    await deps.images.snapshotter.remove(id);
    fs.rmSync(container.ioDir, { recursive: true, force: true });
    await fs.promises.rm(containerRootDir(deps.config().crid.root, id), { recursive: true, force: true });
    publish(deps, id, 'CONTAINER_DELETED_EVENT');
    await deps.containers.delete(id);
    deps.names.release(container.name);
    deps.monitor.forgetTask(id);
    deps.released();
  });
}
