// CRI LinuxContainerResources → OCI linux.resources, and the oom_score_adj rule.
import { invalidArgument } from '../errors.ts';
import type { LinuxContainerResources__Output } from '../generated/runtime/v1/LinuxContainerResources.ts';
import { boundedInt, int64, quote } from './cri-values.ts';
import type { HostFacts } from './host.ts';
import type { Resources } from './spec-types.ts';

/** The pause process' score in containerd: the last thing the OOM killer picks. */
export const SANDBOX_OOM_SCORE_ADJ = -998;

/** containerd's CPU shares of the sandbox (pause) container. */
export const SANDBOX_CPU_SHARES = 2n;

/**
 * The score a process gets. With `restrict` (containerd's restrict_oom_score_adj), never below
 * crid's own: without CAP_SYS_RESOURCE a process cannot lower it, and runc would fail with
 * "write /proc/self/oom_score_adj: permission denied".
 */
export function oomScoreAdj(requested: number, restrict: boolean, own: number): number {
  return restrict && requested < own ? own : requested;
}

const CPUSET = /^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$/;
const PAGE_SIZE = /^[0-9]+(KB|MB|GB|TB|PB)$/;

/**
 * The container's cgroup resources, without devices. Zero means "not set" for every number, as in
 * containerd. Hugepage limits are dropped when the host has no usable hugetlb controller (containerd's
 * default tolerate_missing_hugetlb_controller: kubelet sends them for every page size).
 */
export function containerResources(
  res: LinuxContainerResources__Output | null | undefined,
  host: HostFacts,
  field: string,
): Omit<Resources, 'devices'> {
  if (!res) return {};
  const period = int64(res.cpu_period, `${field}.cpu_period`);
  const quota = int64(res.cpu_quota, `${field}.cpu_quota`);
  const shares = int64(res.cpu_shares, `${field}.cpu_shares`);
  const limit = int64(res.memory_limit_in_bytes, `${field}.memory_limit_in_bytes`);
  const swap = int64(res.memory_swap_limit_in_bytes, `${field}.memory_swap_limit_in_bytes`);
  for (const [name, value] of [
    ['cpu_period', period],
    ['cpu_shares', shares],
    ['memory_limit_in_bytes', limit],
  ] as const) {
    if (value < 0n) throw invalidArgument(`${field}.${name}: ${value} is negative`);
  }
  if (quota < -1n) throw invalidArgument(`${field}.cpu_quota: ${quota} (use -1 for no limit)`);
  if (swap < -1n) throw invalidArgument(`${field}.memory_swap_limit_in_bytes: ${swap} (use -1 for unlimited swap)`);
  const out: Omit<Resources, 'devices'> = {};
  const cpu = {
    ...(period !== 0n && { period }),
    ...(quota !== 0n && { quota }),
    ...(shares !== 0n && { shares }),
    ...(res.cpuset_cpus && { cpus: cpuset(res.cpuset_cpus, `${field}.cpuset_cpus`) }),
    ...(res.cpuset_mems && { mems: cpuset(res.cpuset_mems, `${field}.cpuset_mems`) }),
  };
  if (Object.keys(cpu).length > 0) out.cpu = cpu;
  const memorySwap = swap !== 0n ? swap : limit;
  if (limit !== 0n || swap !== 0n) {
    out.memory = {
      ...(limit !== 0n && { limit }),
      ...(host.swapAvailable && memorySwap !== 0n && { swap: memorySwap }),
    };
  }
  const pages = hugepageLimits(res, field);
  if (pages.length > 0 && host.hugetlbAvailable) out.hugepageLimits = pages;
  const unified = Object.entries(res.unified ?? {});
  if (unified.length > 0) {
    if (!host.cgroupV2) throw invalidArgument(`${field}.unified: needs cgroup v2, and this host uses cgroup v1`);
    for (const [key] of unified) {
      if (key.includes('/') || key.startsWith('.') || key === '')
        throw invalidArgument(`${field}.unified: invalid cgroup file name ${quote(key)}`);
    }
    out.unified = Object.fromEntries(unified);
  }
  return out;
}

function cpuset(value: string, field: string): string {
  if (!CPUSET.test(value)) throw invalidArgument(`${field}: ${quote(value)} is not a cpu/node list such as "0-3,6"`);
  return value;
}

function hugepageLimits(res: LinuxContainerResources__Output, field: string) {
  return (res.hugepage_limits ?? []).map((h, i) => {
    if (!PAGE_SIZE.test(h.page_size ?? ''))
      throw invalidArgument(
        `${field}.hugepage_limits[${i}].page_size: ${quote(h.page_size ?? '')} is not a size such as "2MB"`,
      );
    const limit = int64(h.limit, `${field}.hugepage_limits[${i}].limit`);
    if (limit < 0n) throw invalidArgument(`${field}.hugepage_limits[${i}].limit: ${limit} is negative`);
    return { pageSize: h.page_size, limit };
  });
}

/** The requested oom_score_adj of a container, undefined when resources are absent. */
export function requestedOomScoreAdj(
  res: LinuxContainerResources__Output | null | undefined,
  field: string,
): number | undefined {
  if (!res) return undefined;
  return boundedInt(res.oom_score_adj, `${field}.oom_score_adj`, -1000, 1000);
}
