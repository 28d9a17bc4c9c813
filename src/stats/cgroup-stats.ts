// CPU and memory usage of a cgroup, read from the cgroup files directly so it works for every shim.
// cgroup v1 (per-controller hierarchies under /sys/fs/cgroup/<controller>) and v2 (unified).
import fs from 'node:fs';
import path from 'node:path';
import { cgroupRelativePath } from './systemd-cgroup.ts';

export interface CgroupUsage {
  /** Total CPU time, ns. */
  cpuNanos?: bigint;
  memory?: MemoryUsage;
}

export interface MemoryUsage {
  usageBytes: bigint;
  /** usage minus inactive file pages: what kubelet's eviction looks at. */
  workingSetBytes: bigint;
  rssBytes: bigint;
  pageFaults: bigint;
  majorPageFaults: bigint;
  /** limit minus working set; undefined without a limit. */
  availableBytes?: bigint;
}

const CGROUP_ROOT = '/sys/fs/cgroup';
/** Larger than any real memory limit: the kernel's "unlimited" in v1 is near 2^63. */
const UNLIMITED = 1n << 60n;

/** The on-disk path of an OCI cgroupsPath or cgroup parent, cgroupfs ("/a/b") or systemd form. */
export function cgroupDir(cgroupsPath: string, controller: string | undefined, root = CGROUP_ROOT): string {
  return path.join(root, controller ?? '', cgroupRelativePath(cgroupsPath));
}

async function readText(file: string): Promise<string | undefined> {
  return fs.promises.readFile(file, 'utf8').catch(() => undefined);
}

async function readBig(file: string): Promise<bigint | undefined> {
  const text = (await readText(file))?.trim();
  return text && /^\d+$/.test(text) ? BigInt(text) : undefined;
}

/** "key value" lines of memory.stat / cpu.stat. */
export function parseFlatKeyed(text: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value && /^\d+$/.test(value)) out.set(key, BigInt(value));
  }
  return out;
}

const clampSub = (a: bigint, b: bigint): bigint => (a > b ? a - b : 0n);

export async function readCgroupUsage(
  cgroupsPath: string,
  cgroupV2: boolean,
  root = CGROUP_ROOT,
): Promise<CgroupUsage> {
  return cgroupV2 ? readV2(cgroupDir(cgroupsPath, undefined, root)) : readV1(cgroupsPath, root);
}

async function readV1(cgroupsPath: string, root: string): Promise<CgroupUsage> {
  const cpuNanos =
    (await readBig(path.join(cgroupDir(cgroupsPath, 'cpuacct', root), 'cpuacct.usage'))) ??
    (await readBig(path.join(cgroupDir(cgroupsPath, 'cpu,cpuacct', root), 'cpuacct.usage')));
  const memDir = cgroupDir(cgroupsPath, 'memory', root);
  const [usage, limit, statText] = await Promise.all([
    readBig(path.join(memDir, 'memory.usage_in_bytes')),
    readBig(path.join(memDir, 'memory.limit_in_bytes')),
    readText(path.join(memDir, 'memory.stat')),
  ]);
  if (usage === undefined || statText === undefined) return { cpuNanos };
  const stat = parseFlatKeyed(statText);
  const workingSet = clampSub(usage, stat.get('total_inactive_file') ?? 0n);
  return {
    cpuNanos,
    memory: {
      usageBytes: usage,
      workingSetBytes: workingSet,
      rssBytes: stat.get('total_rss') ?? stat.get('rss') ?? 0n,
      pageFaults: stat.get('total_pgfault') ?? stat.get('pgfault') ?? 0n,
      majorPageFaults: stat.get('total_pgmajfault') ?? stat.get('pgmajfault') ?? 0n,
      ...(limit !== undefined && limit < UNLIMITED && { availableBytes: clampSub(limit, workingSet) }),
    },
  };
}

async function readV2(dir: string): Promise<CgroupUsage> {
  const [cpuText, current, max, statText] = await Promise.all([
    readText(path.join(dir, 'cpu.stat')),
    readBig(path.join(dir, 'memory.current')),
    readBig(path.join(dir, 'memory.max')),
    readText(path.join(dir, 'memory.stat')),
  ]);
  const usec = cpuText ? parseFlatKeyed(cpuText).get('usage_usec') : undefined;
  const cpuNanos = usec !== undefined ? usec * 1000n : undefined;
  if (current === undefined || statText === undefined) return { cpuNanos };
  const stat = parseFlatKeyed(statText);
  const workingSet = clampSub(current, stat.get('inactive_file') ?? 0n);
  return {
    cpuNanos,
    memory: {
      usageBytes: current,
      workingSetBytes: workingSet,
      rssBytes: stat.get('anon') ?? 0n,
      pageFaults: stat.get('pgfault') ?? 0n,
      majorPageFaults: stat.get('pgmajfault') ?? 0n,
      ...(max !== undefined && { availableBytes: clampSub(max, workingSet) }),
    },
  };
}

/** Sums usages (a pod without a cgroup parent of its own: its sandbox and containers). */
export function sumUsage(usages: CgroupUsage[]): CgroupUsage {
  const add = (pick: (u: CgroupUsage) => bigint | undefined) => {
    const values = usages.map(pick).filter((v): v is bigint => v !== undefined);
    return values.length ? values.reduce((a, b) => a + b, 0n) : undefined;
  };
  const withMemory = usages.filter((u) => u.memory);
  return {
    cpuNanos: add((u) => u.cpuNanos),
    ...(withMemory.length > 0 && {
      memory: {
        usageBytes: add((u) => u.memory?.usageBytes)!,
        workingSetBytes: add((u) => u.memory?.workingSetBytes)!,
        rssBytes: add((u) => u.memory?.rssBytes)!,
        pageFaults: add((u) => u.memory?.pageFaults)!,
        majorPageFaults: add((u) => u.memory?.majorPageFaults)!,
      },
    }),
  };
}
