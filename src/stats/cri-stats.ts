// CRI stats messages of containers and pod sandboxes, from their cgroups and writable layers, each
// sampled at most once per interval (sample-cache.ts).
import type { ContainerStats } from '../generated/runtime/v1/ContainerStats.ts';
import type { CpuUsage } from '../generated/runtime/v1/CpuUsage.ts';
import type { MemoryUsage } from '../generated/runtime/v1/MemoryUsage.ts';
import type { PodSandboxStats } from '../generated/runtime/v1/PodSandboxStats.ts';
import type { ImageService } from '../image/image-service.ts';
import { cgroupsPath, type HostFacts } from '../oci/host.ts';
import type { ContainerRecord } from '../store/container.ts';
import type { SandboxRecord } from '../store/sandbox.ts';
import type { DiskUsage } from '../image/disk-usage.ts';
import { nowNanos } from '../util/time.ts';
import { readCgroupUsage, sumUsage, type CgroupUsage } from './cgroup-stats.ts';
import { SampleCache, type Sample } from './sample-cache.ts';

/** kubelet asks for stats every second at most. */
export const USAGE_INTERVAL_MS = 1000;
/** containerd refreshes writable-layer sizes every stats_collect_period (10 s): a du walk is not cheap. */
export const LAYER_INTERVAL_MS = 10_000;

/** A cgroup's usage and the CPU rate since the sample before it. */
export interface UsageSample {
  usage: CgroupUsage;
  nanoCores?: bigint;
}

export interface StatsSources {
  images: ImageService;
  host: HostFacts;
  /** By container or sandbox id. */
  usage: SampleCache<UsageSample>;
  /** By container id. */
  layers: SampleCache<DiskUsage | undefined>;
}

export function statsSources(images: ImageService, host: HostFacts, now = () => BigInt(nowNanos())): StatsSources {
  return {
    images,
    host,
    usage: new SampleCache(USAGE_INTERVAL_MS, now),
    layers: new SampleCache(LAYER_INTERVAL_MS, now),
  };
}

/** Drops the samples of objects that are gone. */
export function retainSamples(src: StatsSources, ids: Set<string>): void {
  src.usage.retain(ids);
  src.layers.retain(ids);
}

/** CPU ns used per wall-clock s between two samples, as containerd computes it from the sample it keeps. */
export function nanoCores(
  cpuNanos: bigint | undefined,
  at: bigint,
  previous: Sample<UsageSample> | undefined,
): bigint | undefined {
  const before = previous?.value.usage.cpuNanos;
  if (cpuNanos === undefined || before === undefined || at <= previous!.at || cpuNanos < before) return undefined;
  return ((cpuNanos - before) * 1_000_000_000n) / (at - previous!.at);
}

function sampleUsage(src: StatsSources, id: string, read: () => Promise<CgroupUsage>): Promise<Sample<UsageSample>> {
  return src.usage.get(id, async (at, previous) => {
    const usage = await read();
    return { usage, nanoCores: nanoCores(usage.cpuNanos, at, previous) };
  });
}

const NO_USAGE: Sample<UsageSample> = { at: 0n, value: { usage: {} } };

const u64 = (value: bigint | undefined) => (value === undefined ? null : { value: value.toString() });

function cpuMessage({ usage, nanoCores }: UsageSample, at: string): CpuUsage | null {
  if (usage.cpuNanos === undefined) return null;
  return { timestamp: at, usage_core_nano_seconds: u64(usage.cpuNanos), usage_nano_cores: u64(nanoCores) };
}

function memoryMessage(usage: CgroupUsage, at: string): MemoryUsage | null {
  const m = usage.memory;
  if (!m) return null;
  return {
    timestamp: at,
    working_set_bytes: u64(m.workingSetBytes),
    available_bytes: u64(m.availableBytes),
    usage_bytes: u64(m.usageBytes),
    rss_bytes: u64(m.rssBytes),
    page_faults: u64(m.pageFaults),
    major_page_faults: u64(m.majorPageFaults),
  };
}

async function containerUsage(c: ContainerRecord, host: HostFacts): Promise<CgroupUsage> {
  return running(c) ? readCgroupUsage(c.cgroupsPath, host.cgroupV2) : {};
}

function running(c: ContainerRecord): boolean {
  return c.cgroupsPath !== '' && c.state === 'CONTAINER_RUNNING';
}

export async function containerStatsOf(c: ContainerRecord, src: StatsSources): Promise<ContainerStats> {
  const [sample, layer] = await Promise.all([
    running(c) ? sampleUsage(src, c.id, () => containerUsage(c, src.host)) : NO_USAGE,
    src.layers.get(c.id, () => src.images.snapshotter.usage(c.id).catch(() => undefined)),
  ]);
  const at = String(sample.at || layer.at);
  const layerAt = String(layer.at);
  return {
    attributes: { id: c.id, metadata: c.config.metadata, labels: c.config.labels, annotations: c.config.annotations },
    cpu: cpuMessage(sample.value, at),
    memory: memoryMessage(sample.value.usage, at),
    writable_layer: layer.value
      ? {
          timestamp: layerAt,
          fs_id: { mountpoint: src.images.snapshotter.root },
          used_bytes: u64(layer.value.bytes),
          inodes_used: u64(layer.value.inodes),
        }
      : null,
  };
}

/**
 * A pod's usage: its cgroup parent when the pod has one of its own (kubelet's pod cgroup), else the
 * sum of its sandbox's and containers' cgroups.
 */
async function podUsage(s: SandboxRecord, containers: ContainerRecord[], host: HostFacts): Promise<CgroupUsage> {
  const parent = s.config.linux?.cgroup_parent;
  if (parent) return readCgroupUsage(parent, host.cgroupV2);
  const sandboxCgroup = cgroupsPath(host.defaultCgroupParent, s.id);
  return sumUsage([
    await readCgroupUsage(sandboxCgroup, host.cgroupV2),
    ...(await Promise.all(containers.map((c) => containerUsage(c, host)))),
  ]);
}

export async function podSandboxStatsOf(
  s: SandboxRecord,
  containers: ContainerRecord[],
  src: StatsSources,
): Promise<PodSandboxStats> {
  const sample =
    s.state === 'SANDBOX_READY' ? await sampleUsage(src, s.id, () => podUsage(s, containers, src.host)) : NO_USAGE;
  const at = sample.at ? String(sample.at) : nowNanos();
  return {
    attributes: { id: s.id, metadata: s.config.metadata, labels: s.config.labels, annotations: s.config.annotations },
    linux: {
      cpu: cpuMessage(sample.value, at),
      memory: memoryMessage(sample.value.usage, at),
      containers: await Promise.all(containers.map((c) => containerStatsOf(c, src))),
    },
  };
}
