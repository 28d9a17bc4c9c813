// The last steps of every task removal, whatever the shim did or knew: the OCI runtime's own record of
// the container (runc and crun keep it in `<root>/<namespace>/<id>`), removed by the runtime itself,
// and the processes left in the container's cgroup.
import fs from 'node:fs';
import path from 'node:path';
import { tryCommand } from '../util/command.ts';
import { cgroupDir } from '../stats/cgroup-stats.ts';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** The runtime root a runc shim uses when its handler names none. */
const DEFAULT_ROOT = '/run/containerd/runc';

export interface OciRuntimeRef {
  /** The runtime binary ('' = runc). */
  runtime: string;
  /** Its root ('' = the shims' default); the namespace is appended, as the shims do. */
  runtimeRoot: string;
  namespace: string;
}

function ociStateDir(ref: OciRuntimeRef, id: string): string {
  return path.join(ref.runtimeRoot || DEFAULT_ROOT, ref.namespace, id);
}

/**
 * `<runtime> --root <root>/<ns> delete --force <id>`: kills what still runs of the container and
 * removes its state and cgroup. A create cut short by a crash can leave a state directory no shim
 * knows of; runc and crun remove that too. Nothing is run when the runtime
 * holds no state for the id, so a removal that finds nothing costs one stat.
 */
export async function deleteOciState(ref: OciRuntimeRef, id: string): Promise<void> {
  const dir = ociStateDir(ref, id);
  if (!fs.existsSync(dir)) return;
  await tryCommand(ref.runtime || 'runc', ['--root', path.dirname(dir), 'delete', '--force', id]);
}

/**
 * SIGKILLs every process left in a container's cgroup, in each hierarchy that has it, and removes the
 * cgroup. For what `delete --force` cannot reach: a runtime with no state left for the id (a create cut
 * short, or state removed behind its shim's back) knows neither the processes nor the cgroup.
 */
export async function killCgroup(cgroupsPath: string): Promise<void> {
  // Never a hierarchy's root (every process of the host): only a cgroup below it.
  const below = path.relative(CGROUP_ROOT, cgroupDir(cgroupsPath, undefined));
  if (below === '' || below.startsWith('..')) return;
  const hierarchies = await fs.promises.readdir(CGROUP_ROOT).catch(() => [] as string[]);
  const dirs = [undefined, ...hierarchies]
    .map((h) => cgroupDir(cgroupsPath, h))
    .filter((d) => fs.existsSync(path.join(d, 'cgroup.procs')));
  for (let round = 0; round < 10; round++) {
    const pids = new Set<number>();
    for (const dir of dirs) {
      const procs = await fs.promises.readFile(path.join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
      for (const pid of procs.split('\n').map(Number)) if (pid > 0) pids.add(pid);
    }
    if (pids.size === 0) break;
    for (const pid of pids) signal(pid);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  for (const dir of dirs) await fs.promises.rmdir(dir).catch(() => {});
}

function signal(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // it exited meanwhile
  }
}
