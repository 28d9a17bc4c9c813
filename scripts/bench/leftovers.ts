// What a benchmark run may leave on the host if a runtime died before it could remove its pods:
// runc containers, shims, mounts under the run's dir, and the run's cgroup parent. Swept by path,
// so nothing outside the run's own dir and cgroup parent is touched.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { listNetns, removeNetns } from '../../src/network/netns.ts';

const CGROUP_ROOT = '/sys/fs/cgroup';

async function deleteRuncContainers(root: string): Promise<void> {
  if (!fs.existsSync(root)) return;
  const { stdout } = await execa('runc', ['--root', root, 'list', '-q'], { reject: false });
  for (const id of stdout.split('\n').filter(Boolean))
    await execa('runc', ['--root', root, 'delete', '--force', id], { reject: false });
}

/** SIGKILLs processes whose command line names dir (the shims carry their runtime's socket path). */
function killProcessesNaming(dir: string): void {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').includes(dir))
        process.kill(Number(entry), 'SIGKILL');
    } catch {
      // raced with the process exiting
    }
  }
}

async function unmountUnder(dir: string): Promise<void> {
  const mountPoints = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((mountPoint) => mountPoint.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const mountPoint of mountPoints) await execa('umount', ['-l', mountPoint], { reject: false });
}

function removeCgroupTree(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeCgroupTree(path.join(dir, entry.name));
  }
  try {
    fs.rmdirSync(dir);
  } catch {
    // still has a process in it; nothing more to do from here
  }
}

/** Removes `parent` (a cgroupfs path such as /crid-bench-123) from every mounted hierarchy. */
export function removeCgroupParent(parent: string): void {
  for (const hierarchy of fs.readdirSync(CGROUP_ROOT)) removeCgroupTree(path.join(CGROUP_ROOT, hierarchy, parent));
}

export async function sweepLeftovers(dir: string, runcRoots: string[], netnsPrefix: string): Promise<void> {
  for (const root of runcRoots) await deleteRuncContainers(root);
  killProcessesNaming(dir);
  await unmountUnder(dir);
  if (netnsPrefix) for (const netns of await listNetns(netnsPrefix)) await removeNetns(netns);
}
