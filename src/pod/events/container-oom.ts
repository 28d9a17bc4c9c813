// OOM kills the shim did not report: the legacy v1 shim leaves OOM monitoring to the daemon
// (containerd's cgroups monitor). At a container's exit, while its cgroup still exists (the task is
// deleted later), the cgroup's own oom_kill counter says whether the kernel killed inside it.
import fs from 'node:fs';
import path from 'node:path';
import { cgroupDir, parseFlatKeyed } from '../../stats/cgroup-stats.ts';
import type { PodDeps } from '../deps.ts';

/** The number of OOM kills in the cgroup, 0 when it cannot be read. */
export function oomKillCount(cgroupsPath: string, cgroupV2: boolean, root?: string): bigint {
  const file = cgroupV2
    ? path.join(cgroupDir(cgroupsPath, undefined, root), 'memory.events')
    : path.join(cgroupDir(cgroupsPath, 'memory', root), 'memory.oom_control');
  try {
    return parseFlatKeyed(fs.readFileSync(file, 'utf8')).get('oom_kill') ?? 0n;
  } catch {
    return 0n;
  }
}

/**
 * Marks a container OOM-killed when its cgroup counted an OOM kill. Runs synchronously inside the
 * exit event's delivery, before the exit path deletes the task (and with it the cgroup) and records the reason.
 */
export function watchContainerOomKills(deps: PodDeps): () => void {
  return deps.monitor.subscribe((event) => {
    if (event.type !== 'exit' || event.id !== event.containerId) return;
    const container = deps.containers.find(event.containerId);
    if (!container?.cgroupsPath || container.oomKilled || deps.sandboxes.find(event.containerId)) return;
    if (oomKillCount(container.cgroupsPath, deps.host.cgroupV2) === 0n) return;
    deps.containers
      .update(container.id, (c) => (c.oomKilled = true))
      .catch((err: unknown) => deps.log.warn({ err, containerId: container.id }, 'recording an OOM kill failed'));
  });
}
