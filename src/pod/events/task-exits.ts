// The one exit path: every task exit and OOM from any shim (events socket, legacy publish, Wait
// backstop, lost shim) updates the sandbox or container record here and feeds GetContainerEvents.
import type { TaskEvent } from '../../events/task-events.ts';
import type { PodDeps } from '../deps.ts';
import { oomKillCount } from './container-oom.ts';
import { publish } from './publish.ts';

export function watchTaskExits(deps: PodDeps): () => void {
  return deps.monitor.subscribe((event) => {
    if (event.type === 'oom') void markOom(deps, event.containerId);
    if (event.type === 'exit' && event.id === event.containerId) void onInitExit(deps, event);
  });
}

async function markOom(deps: PodDeps, id: string): Promise<void> {
  if (!deps.containers.find(id)) return;
  await deps.locks.run(id, () => deps.containers.update(id, (c) => (c.oomKilled = true))).catch(() => {});
}

async function onInitExit(deps: PodDeps, event: Extract<TaskEvent, { type: 'exit' }>): Promise<void> {
  const log = deps.log.child({ containerId: event.containerId });
  try {
    if (deps.sandboxes.find(event.containerId)) await sandboxExited(deps, event);
    else if (deps.containers.find(event.containerId)) await containerExited(deps, event);
  } catch (err) {
    log.error({ err }, 'handling a task exit failed');
  }
}

async function sandboxExited(deps: PodDeps, event: Extract<TaskEvent, { type: 'exit' }>): Promise<void> {
  const id = event.containerId;
  await deps.sandboxes.update(id, (s) => {
    s.state = 'SANDBOX_NOTREADY';
    s.pid = 0;
    s.exitStatus = event.exitStatus;
    s.exitedAt = event.exitedAt;
  });
  deps.log.info({ podId: id, exitStatus: event.exitStatus }, 'pod sandbox task exited');
  await deps.shims.removeTask(id);
  publish(deps, id, 'CONTAINER_STOPPED_EVENT');
}

async function containerExited(deps: PodDeps, event: Extract<TaskEvent, { type: 'exit' }>): Promise<void> {
  const id = event.containerId;
  // Read before the delete, which removes the cgroup (a v1 shim's runc delete can finish before
  // this function's next line runs).
  const { cgroupsPath } = deps.containers.get(id);
  const oomKilled = cgroupsPath !== '' && oomKillCount(cgroupsPath, deps.host.cgroupV2) > 0n;
  // Delete returns once the shim has copied all output into the FIFOs; then the log can be finished.
  await deps.shims.removeTask(id);
  const writer = deps.logWriters.get(id);
  deps.logWriters.delete(id);
  writer?.finish();
  const updated = await deps.containers.update(id, (c) => {
    c.state = 'CONTAINER_EXITED';
    c.pid = 0;
    c.oomKilled ||= oomKilled;
    c.exitCode = event.exitStatus;
    c.finishedAt = event.exitedAt !== '0' ? event.exitedAt : c.finishedAt;
    c.reason = c.oomKilled ? 'OOMKilled' : event.exitStatus === 0 ? 'Completed' : 'Error';
  });
  deps.log.info(
    { containerId: id, podId: updated.sandboxId, exitCode: event.exitStatus, reason: updated.reason },
    'container exited',
  );
  publish(deps, id, 'CONTAINER_STOPPED_EVENT');
}
