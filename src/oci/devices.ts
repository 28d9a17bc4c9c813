// Host device nodes for container specs. Looking them up is I/O (`statDevice`, `listHostDevices`);
// turning them into spec entries is pure.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Device, DeviceCgroup } from './spec-types.ts';

export interface HostDevice {
  path: string;
  type: 'b' | 'c';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

/** The device node at `hostPath` (symlinks followed); undefined when it is not a device node. */
export async function statDevice(hostPath: string): Promise<HostDevice | undefined> {
  const st = await fs.stat(hostPath, { bigint: true });
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
  if (!type) return undefined;
  const rdev = st.rdev;
  return {
    path: hostPath,
    type,
    major: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n)),
    minor: Number((rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n)),
    fileMode: Number(st.mode & 0o777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
  };
}

// Like runc's HostDevices: these hold per-instance or virtual nodes a container gets on its own.
const SKIPPED_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

/** Every device node under `dir` (default /dev), for privileged containers. */
export async function listHostDevices(dir = '/dev'): Promise<HostDevice[]> {
  const found: HostDevice[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) found.push(...(await listHostDevices(full)));
    } else if ((entry.isCharacterDevice() || entry.isBlockDevice()) && full !== '/dev/console') {
      const device = await statDevice(full).catch(() => undefined);
      if (device) found.push(device);
    }
  }
  return found;
}

/** The spec's device node for a host device, at `containerPath`. */
export function specDevice(device: HostDevice, containerPath: string): Device {
  return {
    path: containerPath,
    type: device.type,
    major: device.major,
    minor: device.minor,
    fileMode: device.fileMode,
    uid: device.uid,
    gid: device.gid,
  };
}

export function deviceRule(device: HostDevice, access: string): DeviceCgroup {
  return { allow: true, type: device.type, major: device.major, minor: device.minor, access };
}

export const DENY_ALL_DEVICES: DeviceCgroup = { allow: false, access: 'rwm' };
export const ALLOW_ALL_DEVICES: DeviceCgroup = { allow: true, access: 'rwm' };
