// A container root filesystem made of Debian's busybox-static: /bin/busybox plus a symlink per applet.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const BUSYBOX = '/bin/busybox';

/** Fills dir (created if needed) with a busybox tree; returns dir. */
export function buildBusyboxRootfs(dir: string): string {
  for (const sub of ['bin', 'dev', 'proc', 'sys', 'tmp', 'etc', 'root'])
    fs.mkdirSync(path.join(dir, sub), { recursive: true });
  fs.copyFileSync(BUSYBOX, path.join(dir, 'bin/busybox'));
  fs.chmodSync(path.join(dir, 'bin/busybox'), 0o755);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const applet of applets) {
    const link = path.join(dir, 'bin', applet);
    if (applet !== 'busybox' && !fs.existsSync(link)) fs.symlinkSync('busybox', link);
  }
  fs.writeFileSync(path.join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  fs.writeFileSync(path.join(dir, 'etc/group'), 'root:x:0:\n');
  return dir;
}
