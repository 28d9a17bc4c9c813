// Mounts of sandbox and container specs: the default filesystems, the pod's shared files, and CRI
// mounts as bind mounts with their propagation.
import path from 'node:path';
import { invalidArgument } from '../errors.ts';
import type { Mount__Output } from '../generated/runtime/v1/Mount.ts';
import { enumValue, quote } from './cri-values.ts';
import type { Mount } from './spec-types.ts';

/** containerd's default masked paths (pkg/oci populateDefaultUnixSpec). */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
  '/proc/scsi',
];

export const DEFAULT_READONLY_PATHS: readonly string[] = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
];

/** /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue and a read-only /sys (rw when privileged). */
export function defaultMounts(privileged: boolean): Mount[] {
  const ro = privileged ? 'rw' : 'ro';
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', ro] },
  ];
}

/**
 * A read-only /sys/fs/cgroup (rw when privileged), for app containers. A pause container goes
 * without, as containerd's: its process never looks, and on a host with v1 hierarchies runc mounts
 * every one of them.
 */
export function cgroupMount(privileged: boolean): Mount {
  const ro = privileged ? 'rw' : 'ro';
  return {
    destination: '/sys/fs/cgroup',
    type: 'cgroup',
    source: 'cgroup',
    options: ['nosuid', 'noexec', 'nodev', 'relatime', ro],
  };
}

/** A read-only bind mount of one of the pod's files (resolv.conf, hosts, …) or its /dev/shm. */
export function bindMount(source: string, destination: string, readonly: boolean): Mount {
  return { destination, type: 'bind', source, options: ['rbind', 'rprivate', readonly ? 'ro' : 'rw'] };
}

const PROPAGATIONS = ['PROPAGATION_PRIVATE', 'PROPAGATION_HOST_TO_CONTAINER', 'PROPAGATION_BIDIRECTIONAL'] as const;

export interface CriMounts {
  mounts: Mount[];
  /** rslave or rshared when a mount needs propagation from/to the host, else undefined. */
  rootfsPropagation?: 'rslave' | 'rshared';
}

/**
 * CRI mounts as bind mounts, ordered so a parent is mounted before what is mounted inside it
 * (fewer path components first, stable otherwise), and the rootfs propagation they need.
 */
export function criMounts(requested: readonly Mount__Output[], field: string): CriMounts {
  const mounts: Array<{ depth: number; mount: Mount }> = [];
  let rootfsPropagation: CriMounts['rootfsPropagation'];
  requested.forEach((m, i) => {
    const f = `${field}[${i}]`;
    checkMount(m, f);
    const propagation = enumValue(m.propagation, PROPAGATIONS, `${f}.propagation`);
    const options = ['rbind'];
    if (propagation === 'PROPAGATION_PRIVATE') options.push('rprivate');
    if (propagation === 'PROPAGATION_HOST_TO_CONTAINER') {
      options.push('rslave');
      rootfsPropagation ??= 'rslave';
    }
    if (propagation === 'PROPAGATION_BIDIRECTIONAL') {
      options.push('rshared');
      rootfsPropagation = 'rshared';
    }
    options.push(m.readonly ? 'ro' : 'rw');
    const destination = path.posix.normalize(m.container_path);
    mounts.push({
      depth: destination.split('/').length,
      mount: { destination, type: 'bind', source: m.host_path, options },
    });
  });
  mounts.sort((a, b) => a.depth - b.depth);
  return { mounts: mounts.map((m) => m.mount), rootfsPropagation };
}

function checkMount(m: Mount__Output, field: string): void {
  if (!m.container_path?.startsWith('/'))
    throw invalidArgument(`${field}.container_path ${quote(m.container_path ?? '')} must be an absolute path`);
  if (m.image?.image) throw invalidArgument(`${field}.image: image volumes are not supported`);
  if (!m.host_path?.startsWith('/'))
    throw invalidArgument(`${field}.host_path ${quote(m.host_path ?? '')} must be an absolute path`);
  if (m.recursive_read_only) {
    throw invalidArgument(
      `${field}.recursive_read_only: recursive read-only mounts are not supported by crid's OCI runtimes`,
    );
  }
  if ((m.uidMappings?.length ?? 0) > 0 || (m.gidMappings?.length ?? 0) > 0) {
    throw invalidArgument(`${field}: id-mapped mounts are not supported`);
  }
  for (const [name, value] of [
    ['container_path', m.container_path],
    ['host_path', m.host_path],
  ] as const) {
    if (value.includes('\0')) throw invalidArgument(`${field}.${name} contains a NUL byte`);
  }
}

/**
 * Mounts in the order they are set up: defaults first, leaving out those a requested mount replaces
 * (same destination, or anything under /dev when /dev itself is mounted), then the requested ones.
 */
export function mergeMounts(defaults: readonly Mount[], requested: readonly Mount[]): Mount[] {
  const taken = new Set(requested.map((m) => path.posix.normalize(m.destination)));
  const kept = defaults.filter((m) => {
    const dst = path.posix.normalize(m.destination);
    return !taken.has(dst) && !(taken.has('/dev') && dst.startsWith('/dev/'));
  });
  return [...kept, ...requested];
}

/** True when `destination` is one of the requested mounts' destinations. */
export function isMounted(requested: readonly Mount__Output[], destination: string): boolean {
  return requested.some((m) => path.posix.normalize(m.container_path ?? '') === destination);
}
