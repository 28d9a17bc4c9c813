// crun 1.8 wants a cgroup-v1 hugetlb hierarchy, which this machine keeps on cgroup2 (machine-notes).
// Mount one for crun tests and undo it: child cgroups first, or the hierarchy outlives the unmount.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const HUGETLB = '/sys/fs/cgroup/hugetlb';

export function mountHugetlb(): () => void {
  if (fs.existsSync(path.join(HUGETLB, 'cgroup.procs'))) return () => {};
  fs.mkdirSync(HUGETLB, { recursive: true });
  execFileSync('mount', ['-t', 'cgroup', '-o', 'hugetlb', 'none', HUGETLB]);
  return () => {
    // A cgroup still holding processes (someone else's) keeps the hierarchy: leave it mounted then.
    if (!removeChildCgroups(HUGETLB)) return;
    execFileSync('umount', [HUGETLB]);
    fs.rmdirSync(HUGETLB);
  };
}

function removeChildCgroups(dir: string): boolean {
  let all = true;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const child = path.join(dir, entry.name);
    try {
      if (removeChildCgroups(child)) fs.rmdirSync(child);
      else all = false;
    } catch {
      all = false;
    }
  }
  return all;
}
