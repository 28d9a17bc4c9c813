// CRI stats messages of containers and pod sandboxes, from their cgroups and writable layers.
import type { ContainerStats } from '../generated/runtime/v1/ContainerStats.ts';
import type { CpuUsage } from '../generated/runtime/v1/CpuUsage.ts';
import type { MemoryUsage } from '../generated/runtime/v1/MemoryUsage.ts';
import type { PodSandboxStats } from '../generated/runtime/v1/PodSandboxStats.ts';
import type { ImageService } from '../image/image-service.ts';
import { cgroupsPath, type HostFacts } from '../oci/host.ts';
import type { ContainerRecord } from '../store/container.ts';
import type { SandboxRecord } from '../store/sandbox.ts';
import { nowNanos } from '../util/time.ts';
import { readCgroupUsage, sumUsage, type CgroupUsage } from './cgroup-stats.ts';
import type { CpuRates } from './cpu-rate.ts';

export interface StatsSources {
  images: ImageService;
  host: HostFacts;
  rates: CpuRates;
}

const u64 = (value: bigint | undefined) => (value === undefined ? null : { value: value.toString() });

function cpuMessage(key: string, usage: CgroupUsage, at: string, rates: CpuRates): CpuUsage | null {
  if (usage.cpuNanos === undefined) return null;
  return {
    timestamp: at,
    usage_core_nano_seconds: u64(usage.cpuNanos),
    usage_nano_cores: u64(rates.rate(key, usage.cpuNanos, BigInt(at))),
  };
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
  return c.cgroupsPath && c.state === 'CONTAINER_RUNNING' ? readCgroupUsage(c.cgroupsPath, host.cgroupV2) : {};
}

export async function containerStatsOf(c: ContainerRecord, src: StatsSources): Promise<ContainerStats> {
  const at = nowNanos();
  const [usage, layer] = await Promise.all([containerUsage(c, src.host), src.images.snapshotter.usage(c.id).catch(() => undefined)]);
  return {
    attributes: { id: c.id, metadata: c.config.metadata, labels: c.config.labels, annotations: c.config.annotations },
    cpu: cpuMessage(c.id, usage, at, src.rates),
    memory: memoryMessage(usage, at),
    writable_layer: layer
      ? { timestamp: at, fs_id: { mountpoint: src.images.snapshotter.root }, used_bytes: u64(layer.bytes), inodes_used: u64(layer.inodes) }
      : null,
  };
}

/**
 * A pod's usage: its cgroup parent when the pod has one of its own (kubelet's pod cgroup), else the
 * sum of its sandbox's and containers' cgroups.
 */
async function podUsage(s: SandboxRecord, containers: ContainerRecord[], host: HostFacts): Promise<CgroupUsage> {
  if (s.state !== 'SANDBOX_READY') return {};
  const parent = s.config.linux?.cgroup_parent;
  if (parent) return readCgroupUsage(parent, host.cgroupV2);
  const sandboxCgroup = cgroupsPath(host.defaultCgroupParent, s.id);
  return sumUsage([await readCgroupUsage(sandboxCgroup, host.cgroupV2), ...(await Promise.all(containers.map((c) => containerUsage(c, host))))]);
}

export async function podSandboxStatsOf(s: SandboxRecord, containers: ContainerRecord[], src: StatsSources): Promise<PodSandboxStats> {
  const at = nowNanos();
  const usage = await podUsage(s, containers, src.host);
  return {
    attributes: { id: s.id, metadata: s.config.metadata, labels: s.config.labels, annotations: s.config.annotations },
    linux: {
      cpu: cpuMessage(s.id, usage, at, src.rates),
      memory: memoryMessage(usage, at),
      containers: await Promise.all(containers.map((c) => containerStatsOf(c, src))),
    },
  };
}
