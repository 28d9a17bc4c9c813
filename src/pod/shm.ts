// A pod's /dev/shm: a tmpfs crid mounts once per pod and binds into the sandbox and its containers,
// so every container of the pod shares it (they share the IPC namespace too).
import fs from 'node:fs';
import { internal } from '../errors.ts';
import { runProcess } from '../util/run-process.ts';

const SHM_SIZE = '64m';

export async function mountPodShm(dir: string): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
  const run = await runProcess('mount', ['-t', 'tmpfs', '-o', `nosuid,nodev,noexec,mode=1777,size=${SHM_SIZE}`, 'shm', dir]);
  if (run.exitCode !== 0) throw internal(`cannot mount the pod's /dev/shm at ${dir}: ${run.stderr.trim() || `exit ${run.exitCode}`}`);
}

/** Unmounts (when mounted) and removes the directory; missing is fine. */
export async function removePodShm(dir: string): Promise<void> {
  if (!fs.existsSync(dir)) return;
  const mounted = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === dir);
  if (mounted) {
    const run = await runProcess('umount', [dir]);
    if (run.exitCode !== 0) throw internal(`cannot unmount the pod's /dev/shm at ${dir}: ${run.stderr.trim() || `exit ${run.exitCode}`}`);
  }
  await fs.promises.rm(dir, { recursive: true, force: true });
}
