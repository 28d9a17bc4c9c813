// Facts about the host and crid's own process that spec building depends on. Read once at start
// (`readHostFacts`) and passed to the pure builders, so tests can state any host they like.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { capabilitiesFromMask } from './capabilities.ts';
import type { AppArmorHost } from './apparmor.ts';
import { DEFAULT_PROFILE_NAME } from './apparmor-profile.ts';

export interface HostFacts {
  /** crid's own /proc/self/oom_score_adj: the floor of every container's when restricted. */
  oomScoreAdj: number;
  /** The capabilities crid holds (CapEff): what a privileged container can get. */
  capabilities: string[];
  /** Node's process.arch, for the seccomp architectures. */
  arch: string;
  /** The node's hostname, for HOSTNAME of host-network pods. */
  hostname: string;
  cgroupV2: boolean;
  /** memory swap accounting exists (v1 memory.memsw.*, v2 memory.swap.max). */
  swapAvailable: boolean;
  /** A hugetlb controller the OCI runtime can use (v1: mounted at /sys/fs/cgroup/hugetlb). */
  hugetlbAvailable: boolean;
  apparmor: AppArmorHost;
  /** selinuxfs is mounted: the kernel enforces or audits SELinux labels. */
  selinuxEnabled: boolean;
  /** The cgroup parent of pods whose config names none. */
  defaultCgroupParent: string;
}

const CGROUP2_SUPER_MAGIC = 0x63677270;

export async function readHostFacts(): Promise<HostFacts> {
  const [oomText, status, procCgroup, statfs, apparmorFlag] = await Promise.all([
    fs.readFile('/proc/self/oom_score_adj', 'utf8'),
    fs.readFile('/proc/self/status', 'utf8'),
    fs.readFile('/proc/self/cgroup', 'utf8'),
    fs.statfs('/sys/fs/cgroup'),
    fs.readFile('/sys/module/apparmor/parameters/enabled', 'utf8').catch(() => 'N'),
  ]);
  const cgroupV2 = statfs.type === CGROUP2_SUPER_MAGIC;
  const own = ownCgroup(procCgroup, cgroupV2);
  return {
    oomScoreAdj: Number.parseInt(oomText.trim(), 10),
    capabilities: capabilitiesFromMask(/^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0'),
    arch: process.arch,
    hostname: os.hostname(),
    cgroupV2,
    swapAvailable: cgroupV2
      ? await exists(path.join('/sys/fs/cgroup', own, 'memory.swap.max'))
      : await exists('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes'),
    hugetlbAvailable: cgroupV2
      ? (await fs.readFile('/sys/fs/cgroup/cgroup.controllers', 'utf8').catch(() => ''))
          .split(/\s+/)
          .includes('hugetlb')
      : await exists('/sys/fs/cgroup/hugetlb'),
    apparmor: apparmorHost(apparmorFlag.trim() === 'Y'),
    selinuxEnabled: await exists('/sys/fs/selinux/enforce'),
    defaultCgroupParent: defaultCgroupParent(own),
  };
}

function apparmorHost(enabled: boolean): AppArmorHost {
  return {
    enabled,
    defaultProfile: enabled ? DEFAULT_PROFILE_NAME : '',
    profilesFile: '/sys/kernel/security/apparmor/profiles',
  };
}

const exists = (p: string): Promise<boolean> =>
  fs.access(p).then(
    () => true,
    () => false,
  );

/**
 * crid's own cgroup from /proc/self/cgroup: the unified ("0::") entry on cgroup v2, else the
 * memory controller's path (on hybrid hosts the controllers can sit in different cgroups; memory is
 * the one whose limit must keep applying to the pods).
 */
export function ownCgroup(procSelfCgroup: string, cgroupV2: boolean): string {
  const lines = procSelfCgroup.split('\n').map((l) => l.split(':'));
  const entry = cgroupV2
    ? lines.find(([, controllers]) => controllers === '')
    : lines.find(([, controllers]) => controllers?.split(',').includes('memory'));
  return entry?.slice(2).join(':') || '/';
}

/**
 * Pods without a cgroup_parent go under `crid`, a sibling of crid's own cgroup: inside the cgroup
 * the host placed crid in (so its limits hold), but not a child of a cgroup that has processes,
 * which cgroup v2 forbids for controller-enabled children.
 */
export function defaultCgroupParent(own: string): string {
  return path.posix.join(path.posix.dirname(own), 'crid');
}

/** linux.cgroupsPath: `slice:crid:<id>` under a systemd slice (runc's format), else `<parent>/<id>`. */
export function cgroupsPath(parent: string, id: string): string {
  const base = path.posix.basename(parent);
  if (base.endsWith('.slice')) return `${base}:crid:${id}`;
  return path.posix.join(parent, id);
}
