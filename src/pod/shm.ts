// A pod's /dev/shm: a tmpfs crid mounts once per pod and binds into the sandbox and its containers,
// so every container of the pod shares it (they share the IPC namespace too).
import fs from 'node:fs';
import path from 'node:path';
import { mountsUnder } from '../runtime/bundle.ts';
import { MS_NODEV, MS_NOEXEC, MS_NOSUID, mount, umount } from '../util/libc.ts';
import { wrap } from '../errors.ts';

const SHM_SIZE = '64m';

export function mountPodShm(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    mount('shm', dir, 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, `mode=1777,size=${SHM_SIZE}`);
  } catch (err) {
    throw wrap(err, `cannot mount the pod's /dev/shm at ${dir}`);
  }
}

/** Unmounts (when mounted) and removes the directory, synchronously (see removeBundle); missing is fine. */
export function removePodShm(dir: string): void {
  if (!fs.existsSync(dir)) return;
  if (mountsUnder(dir).includes(path.resolve(dir))) umount(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}
