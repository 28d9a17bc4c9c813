// OOM kills no event reported in time: the legacy v1 shim publishes its OOM events through a
// `publish` process, which can arrive after the exit. At a container's exit, while its cgroup still
// exists (deleting the task removes it), the cgroup's own oom_kill counter says whether the kernel
// killed inside it.
import fs from 'node:fs';
import path from 'node:path';
import { cgroupDir, parseFlatKeyed } from '../../stats/cgroup-stats.ts';

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
