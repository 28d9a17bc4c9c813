// Everything the CRI metrics report about one cgroup, read from its files (cgroup v1 per-controller
// hierarchies or v2 unified). CPU total and memory usage come from the reader CRI stats use, so both
// APIs agree on working set; this module adds the files only the metrics need.
import fs from 'node:fs';
import path from 'node:path';
import { cgroupDir, parseFlatKeyed, readCgroupUsage } from './cgroup-stats.ts';

export interface CgroupSample {
  cpuNanos?: bigint;
  cpuUserNanos?: bigint;
  cpuSystemNanos?: bigint;
  cfsPeriods?: bigint;
  cfsThrottledPeriods?: bigint;
  cfsThrottledNanos?: bigint;
  memoryUsage?: bigint;
  memoryMaxUsage?: bigint;
  workingSet?: bigint;
  rss?: bigint;
  cache?: bigint;
  mappedFile?: bigint;
  swap?: bigint;
  /** Page faults of this cgroup's own tasks, and of its whole subtree. */
  pageFaults?: bigint;
  pageFaultsHierarchy?: bigint;
  majorPageFaults?: bigint;
  majorPageFaultsHierarchy?: bigint;
  /** 0 when unlimited, as cAdvisor reports it. */
  memoryLimit?: bigint;
  oomKills?: bigint;
  processes?: bigint;
  /** Tasks (pids.current). */
  threads?: bigint;
  /** 0 when unlimited. */
  threadsMax?: bigint;
}

export type SampleKey = keyof CgroupSample;

/** Larger than any real limit: v1 writes "unlimited" as a number near 2^63. */
const UNLIMITED = 1n << 60n;

async function readText(file: string): Promise<string | undefined> {
  return fs.promises.readFile(file, 'utf8').catch(() => undefined);
}

/** A single-number file; "max" (v2's unlimited) and v1's huge unlimited read as 0. */
async function readNumber(file: string): Promise<bigint | undefined> {
  const text = (await readText(file))?.trim();
  if (text === 'max') return 0n;
  if (!text || !/^\d+$/.test(text)) return undefined;
  const value = BigInt(text);
  return value >= UNLIMITED ? 0n : value;
}

async function readKeyed(file: string): Promise<Map<string, bigint>> {
  const text = await readText(file);
  return text === undefined ? new Map() : parseFlatKeyed(text);
}

/** Processes in the cgroup and every cgroup below it (a pod's cgroup holds its processes in children). */
export async function countProcesses(dir: string): Promise<bigint | undefined> {
  const procs = await readText(path.join(dir, 'cgroup.procs'));
  if (procs === undefined) return undefined;
  const entries = await fs.promises.readdir(dir, { withFileTypes: true }).catch(() => []);
  const below = await Promise.all(
    entries.filter((e) => e.isDirectory()).map((e) => countProcesses(path.join(dir, e.name))),
  );
  const own = BigInt(procs.split('\n').filter((l) => l.trim()).length);
  return below.reduce<bigint>((sum, n) => sum + (n ?? 0n), own);
}

const times1000 = (usec: bigint | undefined) => (usec === undefined ? undefined : usec * 1000n);
const minus = (a: bigint | undefined, b: bigint | undefined) =>
  a === undefined || b === undefined ? undefined : a > b ? a - b : 0n;

/** The first v1 hierarchy of a controller that holds the file (cpu and cpuacct may be co-mounted). */
async function v1File(
  root: string | undefined,
  cgroupsPath: string,
  controllers: string[],
  file: string,
): Promise<string> {
  for (const c of controllers) {
    const candidate = path.join(cgroupDir(cgroupsPath, c, root), file);
    if (
      await fs.promises.access(candidate).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  return path.join(cgroupDir(cgroupsPath, controllers[0], root), file);
}

async function readV1Extras(cgroupsPath: string, root: string | undefined): Promise<CgroupSample> {
  const cpuacct = (file: string) => v1File(root, cgroupsPath, ['cpuacct', 'cpu,cpuacct'], file);
  const mem = (file: string) => path.join(cgroupDir(cgroupsPath, 'memory', root), file);
  const pids = cgroupDir(cgroupsPath, 'pids', root);
  const [user, system, cpuStat, maxUsage, limit, memsw, usage, stat, oom, threads, threadsMax, processes] =
    await Promise.all([
      cpuacct('cpuacct.usage_user').then(readNumber),
      cpuacct('cpuacct.usage_sys').then(readNumber),
      v1File(root, cgroupsPath, ['cpu', 'cpu,cpuacct'], 'cpu.stat').then(readKeyed),
      readNumber(mem('memory.max_usage_in_bytes')),
      readNumber(mem('memory.limit_in_bytes')),
      readNumber(mem('memory.memsw.usage_in_bytes')),
      readNumber(mem('memory.usage_in_bytes')),
      readKeyed(mem('memory.stat')),
      readKeyed(mem('memory.oom_control')),
      readNumber(path.join(pids, 'pids.current')),
      readNumber(path.join(pids, 'pids.max')),
      countProcesses(pids),
    ]);
  return {
    cpuUserNanos: user,
    cpuSystemNanos: system,
    cfsPeriods: cpuStat.get('nr_periods'),
    cfsThrottledPeriods: cpuStat.get('nr_throttled'),
    cfsThrottledNanos: cpuStat.get('throttled_time'),
    memoryMaxUsage: maxUsage,
    memoryLimit: limit,
    swap: minus(memsw, usage),
    cache: stat.get('total_cache'),
    mappedFile: stat.get('total_mapped_file'),
    pageFaults: stat.get('pgfault'),
    majorPageFaults: stat.get('pgmajfault'),
    oomKills: oom.get('oom_kill'),
    threads,
    threadsMax,
    processes,
  };
}

async function readV2Extras(dir: string): Promise<CgroupSample> {
  const [cpuStat, peak, max, swap, stat, events, threads, threadsMax, processes] = await Promise.all([
    readKeyed(path.join(dir, 'cpu.stat')),
    readNumber(path.join(dir, 'memory.peak')),
    readNumber(path.join(dir, 'memory.max')),
    readNumber(path.join(dir, 'memory.swap.current')),
    readKeyed(path.join(dir, 'memory.stat')),
    readKeyed(path.join(dir, 'memory.events')),
    readNumber(path.join(dir, 'pids.current')),
    readNumber(path.join(dir, 'pids.max')),
    countProcesses(dir),
  ]);
  return {
    cpuUserNanos: times1000(cpuStat.get('user_usec')),
    cpuSystemNanos: times1000(cpuStat.get('system_usec')),
    cfsPeriods: cpuStat.get('nr_periods'),
    cfsThrottledPeriods: cpuStat.get('nr_throttled'),
    cfsThrottledNanos: times1000(cpuStat.get('throttled_usec')),
    memoryMaxUsage: peak,
    memoryLimit: max,
    swap,
    cache: stat.get('file'),
    mappedFile: stat.get('file_mapped'),
    // v2 counts faults over the subtree only: the container scope and the hierarchy are the same.
    pageFaults: stat.get('pgfault'),
    majorPageFaults: stat.get('pgmajfault'),
    oomKills: events.get('oom_kill'),
    threads,
    threadsMax,
    processes,
  };
}

/** What the cgroup's files say; fields whose files are missing (a gone cgroup) are left out. */
export async function readCgroupSample(cgroupsPath: string, cgroupV2: boolean, root?: string): Promise<CgroupSample> {
  const [usage, extras] = await Promise.all([
    readCgroupUsage(cgroupsPath, cgroupV2, root),
    cgroupV2 ? readV2Extras(cgroupDir(cgroupsPath, undefined, root)) : readV1Extras(cgroupsPath, root),
  ]);
  const m = usage.memory;
  const sample = {
    ...extras,
    cpuNanos: usage.cpuNanos,
    memoryUsage: m?.usageBytes,
    workingSet: m?.workingSetBytes,
    rss: m?.rssBytes,
    pageFaultsHierarchy: m?.pageFaults,
    majorPageFaultsHierarchy: m?.majorPageFaults,
  };
  return withoutUndefined(sample);
}

function withoutUndefined(sample: CgroupSample): CgroupSample {
  return Object.fromEntries(Object.entries(sample).filter(([, v]) => v !== undefined)) as CgroupSample;
}

/** Limits and peaks of parts do not add up to the whole's: a sum leaves them out. */
const NOT_ADDITIVE: ReadonlySet<SampleKey> = new Set<SampleKey>(['memoryMaxUsage', 'memoryLimit', 'threadsMax']);

/** The sum of samples (a pod without a cgroup of its own: its sandbox's and containers' cgroups). */
export function sumSamples(samples: CgroupSample[]): CgroupSample {
  const sum: CgroupSample = {};
  for (const sample of samples) {
    for (const [key, value] of Object.entries(sample) as Array<[SampleKey, bigint]>) {
      if (!NOT_ADDITIVE.has(key)) sum[key] = (sum[key] ?? 0n) + value;
    }
  }
  return sum;
}
