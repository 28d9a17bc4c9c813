// After a (re)start: reload the stores, reattach to the shims that outlived the previous crid, turn
// dead ones into exits, and clean up what a crash left half-made (bundles, netns, snapshots).
import { instanceNetnsPrefix, listNetns, removeNetns } from '../network/netns.ts';
import type { PodDeps } from './deps.ts';
import fs from 'node:fs';
import path from 'node:path';
import { attachContainerLogs, containerIoDir } from './container-io.ts';
import { containerRootDir } from './image-volumes.ts';
import { removePodSandbox } from './sandbox-remove.ts';

export async function recoverState(deps: PodDeps): Promise<void> {
  const log = deps.log.child({ phase: 'recovery' });
  for (const broken of [...(await deps.sandboxes.load()), ...(await deps.containers.load())]) {
    log.error({ file: broken }, 'unreadable record skipped');
  }
  for (const s of deps.sandboxes.list()) deps.names.reserve(s.name, s.id);
  for (const c of deps.containers.list()) deps.names.reserve(c.name, c.id);

  for (const s of deps.sandboxes.list().filter((s) => s.creating)) {
    log.warn({ podId: s.id }, 'removing a pod sandbox whose RunPodSandbox did not finish');
    await removePodSandbox(deps, s.id).catch((err: unknown) => log.error({ err, podId: s.id }, 'removing a half-made pod sandbox failed'));
  }

  const live = new Set<string>();
  for (const s of deps.sandboxes.list()) {
    if (s.state !== 'SANDBOX_READY') continue;
    const task = await deps.shims.reconnect(s.id);
    if (task) live.add(s.id);
  }
  for (const c of deps.containers.list()) {
    if (c.state === 'CONTAINER_CREATED') await discardUnstartedTask(deps, c.id);
    if (c.state !== 'CONTAINER_RUNNING') continue;
    if (c.logPath) attachContainerLogs(deps, c);
    const task = await deps.shims.reconnect(c.id);
    if (task) live.add(c.id);
  }
  await removeOrphans(deps, live);
  log.info({ sandboxes: deps.sandboxes.list().length, containers: deps.containers.list().length, live: live.size }, 'recovered');
}

/**
 * A created container has no task until StartContainer, which a crid killed halfway may have left
 * behind: it goes, and the container can be started afresh.
 */
async function discardUnstartedTask(deps: PodDeps, id: string): Promise<void> {
  const task = await deps.shims.reconnect(id).catch(() => undefined);
  if (!task) return;
  await task.task.kill(id, 9, { all: true }).catch(() => {});
  await deps.shims.removeTask(id).catch((err: unknown) => deps.log.warn({ err, containerId: id }, 'removing an unstarted task failed'));
}

async function removeOrphans(deps: PodDeps, live: Set<string>): Promise<void> {
  const known = new Set([...deps.sandboxes.list().map((s) => s.id), ...deps.containers.list().map((c) => c.id)]);
  for (const id of await deps.shims.listBundles()) {
    if (live.has(id)) continue;
    // A task no record owns was started by a RunPodSandbox/CreateContainer that crid did not finish.
    const task = known.has(id) ? undefined : await deps.shims.reconnect(id).catch(() => undefined);
    if (task) await task.task.kill(id, 9, { all: true }).catch(() => {});
    await deps.shims.removeTask(id).catch((err: unknown) => deps.log.warn({ err, containerId: id }, 'orphan bundle cleanup failed'));
  }
  const netnsInUse = new Set(deps.sandboxes.list().map((s) => s.netnsPath).filter(Boolean));
  for (const netns of await listNetns(instanceNetnsPrefix(deps.config().crid.state))) {
    if (!netnsInUse.has(netns)) await removeNetns(netns);
  }
  // FIFO and image volume directories of containers whose CreateContainer did not finish.
  for (const dirOf of [(id: string) => containerIoDir(deps.config().crid.state, id), (id: string) => containerRootDir(deps.config().crid.root, id)]) {
    const parent = path.dirname(dirOf('x'));
    for (const id of await fs.promises.readdir(parent).catch(() => [] as string[])) {
      if (!deps.containers.find(id)) await fs.promises.rm(path.join(parent, id), { recursive: true, force: true });
    }
  }
  for (const snap of await deps.images.snapshotter.active()) {
    if (!known.has(snap.key)) await deps.images.snapshotter.remove(snap.key);
  }
}
