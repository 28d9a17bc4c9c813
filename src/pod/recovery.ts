// After a (re)start: reload the stores, reattach to the shims that outlived the previous crid, turn
// dead ones into exits, and clean up what a crash left half-made (bundles, netns, snapshots).
// Recovery never fails the daemon: each object is recovered as far as it can be, what cannot be is
// logged with its id, and crid serves the rest.
import { instanceNetnsPrefix, listNetns, removeNetns } from '../network/netns.ts';
import { sandboxDir, type PodDeps } from './deps.ts';
import fs from 'node:fs';
import path from 'node:path';
import type { RuntimeHandler } from '../config/model.ts';
import type { Logger } from '../log.ts';
import type { ContainerRecord } from '../store/container.ts';
import { attachContainerLogs, containerIoDir } from './container/io.ts';
import { containerRootDir } from './container/image-volumes.ts';
import { removePodSandbox } from './sandbox/remove.ts';
import { removeSandboxFiles } from './sandbox/files.ts';
import { eachLimited } from '../util/each-limited.ts';

/** Loads the pod and container records and reserves their names: lists and statuses can answer from them. */
export async function loadRecords(deps: PodDeps): Promise<void> {
  const log = deps.log.child({ phase: 'recovery' });
  for (const broken of [...(await deps.sandboxes.load()), ...(await deps.containers.load())]) {
    log.error({ file: broken }, 'unreadable record skipped');
  }
  for (const s of deps.sandboxes.list())
    await step(log, { podId: s.id }, 'reserving the name', async () => deps.names.reserve(s.name, s.id));
  for (const c of deps.containers.list())
    await step(log, { containerId: c.id }, 'reserving the name', async () => deps.names.reserve(c.name, c.id));
}

/** After loadRecords: finishes or removes what a killed crid left half-made, reattaches to the shims, sweeps orphans. */
export async function recoverState(deps: PodDeps): Promise<void> {
  const log = deps.log.child({ phase: 'recovery' });

  for (const s of deps.sandboxes.list().filter((s) => s.creating)) {
    log.warn({ podId: s.id }, 'removing a pod sandbox whose RunPodSandbox did not finish');
    await step(log, { podId: s.id }, 'removing a half-made pod sandbox', () => removePodSandbox(deps, s.id));
  }

  const live = new Set<string>();
  await reconnectSandboxes(deps, live, log);
  await reconnectContainers(deps, live, log);
  await removeOrphans(deps, live, log);
  log.info(
    { sandboxes: deps.sandboxes.list().length, containers: deps.containers.list().length, live: live.size },
    'recovered',
  );
}

/**
 * Shims answer in their own time (more so on a loaded node): crid waits on several pods at once.
 * Sandboxes first, so that their connections exist when the containers sharing their shims
 * reconnect; the containers of one pod one after another, as they talk to one shim.
 */
const PODS_IN_FLIGHT = 16;

async function reconnectSandboxes(deps: PodDeps, live: Set<string>, log: Logger): Promise<void> {
  const ready = deps.sandboxes.list().filter((s) => s.state === 'SANDBOX_READY');
  await eachLimited(ready, PODS_IN_FLIGHT, (s) =>
    step(log, { podId: s.id }, 'reconnecting to the shim', async () => {
      if (await deps.shims.reconnect(s.id, s.handler)) live.add(s.id);
    }),
  );
}

async function reconnectContainers(deps: PodDeps, live: Set<string>, log: Logger): Promise<void> {
  const byPod = Map.groupBy(deps.containers.list(), (c) => c.sandboxId);
  await eachLimited([...byPod.values()], PODS_IN_FLIGHT, async (containers) => {
    for (const c of containers) await reconnectContainer(deps, c, live, log);
  });
}

async function reconnectContainer(deps: PodDeps, c: ContainerRecord, live: Set<string>, log: Logger): Promise<void> {
  if (c.state === 'CONTAINER_CREATED') {
    await step(log, { containerId: c.id }, 'dropping a task StartContainer did not finish', () =>
      discardUnstartedTask(deps, c.id),
    );
    return;
  }
  if (c.state !== 'CONTAINER_RUNNING') return;
  if (c.logPath) await step(log, { containerId: c.id }, 'reopening the log', () => reopenLog(deps, c, log));
  await step(log, { containerId: c.id }, 'reconnecting to the shim', async () => {
    if (await deps.shims.reconnect(c.id, deps.sandboxes.find(c.sandboxId)?.handler)) live.add(c.id);
  });
}

/**
 * A created container has no task until StartContainer, which a crid killed halfway may have left
 * behind: it goes, and the container can be started afresh.
 */
async function discardUnstartedTask(deps: PodDeps, id: string): Promise<void> {
  if (fs.existsSync(deps.shims.bundleFor(id))) await discardTask(deps, id);
}

/** Reaches a task no record keeps running (or no record owns), kills what runs, and removes it. */
async function discardTask(deps: PodDeps, id: string): Promise<void> {
  const task = await deps.shims.reach(id);
  if (task) await task.task.kill(id, 9, { all: true }).catch(() => {});
  await deps.shims.removeTask(id);
}

/** One part of recovering one object; a failure is logged with the object's id and recovery goes on. */
async function step(
  log: Logger,
  ids: Record<string, string>,
  what: string,
  work: () => Promise<unknown>,
): Promise<void> {
  try {
    await work();
  } catch (err) {
    log.warn({ err, ...ids }, `recovery: ${what} failed; going on without it`);
  }
}

/**
 * kubelet (or an admin) may have removed the pod's log directory while crid was down: it is made
 * again where kubelet expects the log. Output that cannot be logged is drained, never left to fill
 * the FIFO and block the container.
 */
async function reopenLog(deps: PodDeps, c: ContainerRecord, log: Logger): Promise<void> {
  try {
    await fs.promises.mkdir(path.dirname(c.logPath), { recursive: true, mode: 0o755 });
    attachContainerLogs(deps, c);
  } catch (err) {
    log.warn(
      { err, containerId: c.id, logPath: c.logPath },
      'recovery: the container log cannot be reopened; its output is dropped',
    );
    attachContainerLogs(deps, { ...c, logPath: '' });
  }
}

/** The runtime handler of a known sandbox or container (its pod's). */
function handlerOf(deps: PodDeps, id: string): RuntimeHandler | undefined {
  return deps.sandboxes.find(id)?.handler ?? deps.sandboxes.find(deps.containers.find(id)?.sandboxId ?? '')?.handler;
}

async function removeOrphans(deps: PodDeps, live: Set<string>, log: Logger): Promise<void> {
  const known = new Set([...deps.sandboxes.list().map((s) => s.id), ...deps.containers.list().map((c) => c.id)]);
  for (const id of await deps.shims.listBundles()) {
    if (live.has(id)) continue;
    // A task no record owns was started by a RunPodSandbox/CreateContainer that crid did not finish.
    await step(log, { containerId: id }, 'removing an orphan task', () =>
      known.has(id) ? deps.shims.removeTask(id, handlerOf(deps, id)) : discardTask(deps, id),
    );
  }
  const netnsInUse = new Set(
    deps.sandboxes
      .list()
      .map((s) => s.netnsPath)
      .filter(Boolean),
  );
  const allNetns = await listNetns(instanceNetnsPrefix(deps.config().crid.state)).catch((err: unknown) => {
    log.warn({ err }, 'recovery: listing network namespaces failed');
    return [] as string[];
  });
  for (const netns of allNetns) {
    if (!netnsInUse.has(netns))
      await step(log, { netns }, 'removing an orphan network namespace', () => removeNetns(netns));
  }
  // What a pod sandbox whose record is unreadable left on the host (its task went with the bundles).
  const sandboxesRoot = path.dirname(sandboxDir(deps.config(), 'x'));
  for (const id of await fs.promises.readdir(sandboxesRoot).catch(() => [] as string[])) {
    if (!deps.sandboxes.find(id))
      await step(log, { podId: id }, 'removing the files of an unknown pod sandbox', () =>
        removeSandboxFiles(deps, id),
      );
  }
  // FIFO and image volume directories of containers whose CreateContainer did not finish.
  for (const dirOf of [
    (id: string) => containerIoDir(deps.config().crid.state, id),
    (id: string) => containerRootDir(deps.config().crid.root, id),
  ]) {
    const parent = path.dirname(dirOf('x'));
    for (const id of await fs.promises.readdir(parent).catch(() => [] as string[])) {
      if (!deps.containers.find(id))
        await step(log, { containerId: id }, 'removing orphan container files', () =>
          fs.promises.rm(path.join(parent, id), { recursive: true, force: true }),
        );
    }
  }
  const snapshots = await deps.images.snapshotter.keys().catch((err: unknown) => {
    log.warn({ err }, 'recovery: listing snapshots failed');
    return [];
  });
  for (const key of snapshots) {
    if (!known.has(key))
      await step(log, { snapshot: key }, 'removing an orphan snapshot', () => deps.images.snapshotter.remove(key));
  }
}
