// Annotations crid writes into config.json: the `io.kubernetes.cri.*` keys containerd's CRI plugin
// sets (VM runtimes such as kata read them), the pod/container annotations a handler's allow-list
// lets through, and the pod's VM sizing in containerd's and CRI-O's conventions.
import type { LinuxContainerResources__Output } from '../generated/runtime/v1/LinuxContainerResources.ts';
import type { PodSandboxConfig__Output } from '../generated/runtime/v1/PodSandboxConfig.ts';
import { int64 } from './cri-values.ts';
import { pathMatch } from './path-match.ts';

export const CRI = {
  containerType: 'io.kubernetes.cri.container-type',
  sandboxId: 'io.kubernetes.cri.sandbox-id',
  sandboxName: 'io.kubernetes.cri.sandbox-name',
  sandboxNamespace: 'io.kubernetes.cri.sandbox-namespace',
  sandboxUid: 'io.kubernetes.cri.sandbox-uid',
  sandboxLogDirectory: 'io.kubernetes.cri.sandbox-log-directory',
  containerName: 'io.kubernetes.cri.container-name',
  imageName: 'io.kubernetes.cri.image-name',
  /** containerd 2.x names the sandbox's (pause) image with this key. */
  sandboxImageName: 'io.kubernetes.cri.podsandbox.image-name',
  /** crid's own: the RuntimeClass handler the pod runs under. */
  runtimeHandler: 'io.kubernetes.cri.runtime-handler',
  sandboxCpuPeriod: 'io.kubernetes.cri.sandbox-cpu-period',
  sandboxCpuQuota: 'io.kubernetes.cri.sandbox-cpu-quota',
  sandboxCpuShares: 'io.kubernetes.cri.sandbox-cpu-shares',
  sandboxMemory: 'io.kubernetes.cri.sandbox-memory',
} as const;

export const CONTAINER_TYPE_SANDBOX = 'sandbox';
export const CONTAINER_TYPE_CONTAINER = 'container';

/** CRI-O's keys: JSON of the pod's LinuxContainerResources and overhead: the v1 names, then the v2 names newer CRI-O writes (its readers try v2, then v1). */
export const CRIO = {
  podLinuxResources: ['io.kubernetes.cri-o.PodLinuxResources', 'pod-linux-resources.crio.io'],
  podLinuxOverhead: ['io.kubernetes.cri-o.PodLinuxOverhead', 'pod-linux-overhead.crio.io'],
} as const;

/** The CRI keys of a sandbox's spec. */
export function sandboxCriAnnotations(
  sandboxId: string,
  config: PodSandboxConfig__Output,
  imageName: string,
  handler: string,
): Record<string, string> {
  return {
    ...podIdentity(sandboxId, config),
    [CRI.sandboxLogDirectory]: config.log_directory ?? '',
    [CRI.imageName]: imageName,
    [CRI.sandboxImageName]: imageName,
    [CRI.runtimeHandler]: handler,
    [CRI.containerType]: CONTAINER_TYPE_SANDBOX,
  };
}

/** The CRI keys of a container's spec. */
export function containerCriAnnotations(
  sandboxId: string,
  sandboxConfig: PodSandboxConfig__Output,
  containerName: string,
  imageName: string,
): Record<string, string> {
  return {
    ...podIdentity(sandboxId, sandboxConfig),
    [CRI.containerName]: containerName,
    [CRI.imageName]: imageName,
    [CRI.containerType]: CONTAINER_TYPE_CONTAINER,
  };
}

function podIdentity(sandboxId: string, config: PodSandboxConfig__Output): Record<string, string> {
  return {
    [CRI.sandboxId]: sandboxId,
    [CRI.sandboxNamespace]: config.metadata?.namespace ?? '',
    [CRI.sandboxUid]: config.metadata?.uid ?? '',
    [CRI.sandboxName]: config.metadata?.name ?? '',
  };
}

/** The annotations whose key matches one of the allow-list's globs (Go path.Match). */
export function passthroughAnnotations(
  annotations: Record<string, string> | null | undefined,
  allowList: readonly string[],
): Record<string, string> {
  const passed: Record<string, string> = {};
  if (allowList.length === 0) return passed;
  for (const [key, value] of Object.entries(annotations ?? {})) {
    if (allowList.some((pattern) => pathMatch(pattern, key))) passed[key] = value;
  }
  return passed;
}

type Resources = LinuxContainerResources__Output | null | undefined;

/**
 * VM sizing of a pod, for VM runtimes: containerd's four `io.kubernetes.cri.sandbox-*` keys and
 * CRI-O's JSON keys. Nothing when kubelet sent neither resources nor overhead.
 *
 * kubelet's `resources` are the sum of the containers' requests/limits *without* the pod overhead
 * (it is sent apart in `overhead`). containerd writes `resources` alone and drops the overhead;
 * CRI-O writes both JSONs and leaves the sum to the reader. crid writes CRI-O's JSONs as CRI-O does,
 * and puts the sum into containerd's keys, the way kubelet sizes the pod cgroup:
 *   period = resources.cpu_period, or overhead.cpu_period when that is 0
 *   quota  = resources.cpu_quota + overhead.cpu_quota × period / overhead.cpu_period (rounded up)
 *            when resources.cpu_quota > 0; otherwise resources.cpu_quota (0 or -1: no CPU limit)
 *   shares = resources.cpu_shares + overhead.cpu_shares
 *   memory = resources.memory_limit_in_bytes + overhead.memory_limit_in_bytes
 *            when resources.memory_limit_in_bytes > 0; otherwise unchanged (no memory limit)
 * A negative overhead value counts as 0.
 */
export function sandboxSizingAnnotations(resources: Resources, overhead: Resources): Record<string, string> {
  if (!resources && !overhead) return {};
  const r = readSizing(resources, 'linux.resources');
  const o = readSizing(overhead, 'linux.overhead');
  const period = r.period > 0n ? r.period : o.period > 0n ? o.period : 0n;
  const out: Record<string, string> = {
    [CRI.sandboxCpuPeriod]: period.toString(),
    [CRI.sandboxCpuQuota]: (r.quota > 0n ? r.quota + scaleQuota(o.quota, o.period, period) : r.quota).toString(),
    [CRI.sandboxCpuShares]: (r.shares + positive(o.shares)).toString(),
    [CRI.sandboxMemory]: (r.memory > 0n ? r.memory + positive(o.memory) : r.memory).toString(),
  };
  if (resources) for (const key of CRIO.podLinuxResources) out[key] = resourcesJson(resources);
  if (overhead) for (const key of CRIO.podLinuxOverhead) out[key] = resourcesJson(overhead);
  return out;
}

function readSizing(res: Resources, field: string) {
  return {
    period: int64(res?.cpu_period, `${field}.cpu_period`),
    quota: int64(res?.cpu_quota, `${field}.cpu_quota`),
    shares: int64(res?.cpu_shares, `${field}.cpu_shares`),
    memory: int64(res?.memory_limit_in_bytes, `${field}.memory_limit_in_bytes`),
  };
}

const positive = (n: bigint): bigint => (n > 0n ? n : 0n);

function scaleQuota(quota: bigint, fromPeriod: bigint, toPeriod: bigint): bigint {
  if (quota <= 0n) return 0n;
  if (fromPeriod <= 0n || toPeriod <= 0n || fromPeriod === toPeriod) return quota;
  return (quota * toPeriod + fromPeriod - 1n) / fromPeriod;
}

/**
 * The message as Go's encoding/json writes CRI-O's annotation: proto field names, empty fields
 * omitted, int64 as exact JSON numbers, map keys sorted.
 */
export function resourcesJson(res: LinuxContainerResources__Output): string {
  const parts: string[] = [];
  const num = (key: keyof LinuxContainerResources__Output) => {
    const n = int64(res[key] as string, `resources.${key}`);
    if (n !== 0n) parts.push(`${JSON.stringify(key)}:${n}`);
  };
  const str = (key: 'cpuset_cpus' | 'cpuset_mems') => {
    if (res[key]) parts.push(`${JSON.stringify(key)}:${JSON.stringify(res[key])}`);
  };
  num('cpu_period');
  num('cpu_quota');
  num('cpu_shares');
  num('memory_limit_in_bytes');
  num('oom_score_adj');
  str('cpuset_cpus');
  str('cpuset_mems');
  const pages = res.hugepage_limits ?? [];
  if (pages.length > 0) parts.push(`"hugepage_limits":[${pages.map(hugepageJson).join(',')}]`);
  const unified = Object.keys(res.unified ?? {}).sort();
  if (unified.length > 0) {
    parts.push(`"unified":{${unified.map((k) => `${JSON.stringify(k)}:${JSON.stringify(res.unified[k])}`).join(',')}}`);
  }
  num('memory_swap_limit_in_bytes');
  return `{${parts.join(',')}}`;
}

function hugepageJson(limit: { page_size: string; limit: string }): string {
  const fields: string[] = [];
  if (limit.page_size) fields.push(`"page_size":${JSON.stringify(limit.page_size)}`);
  const n = int64(limit.limit, 'resources.hugepage_limits.limit');
  if (n !== 0n) fields.push(`"limit":${n}`);
  return `{${fields.join(',')}}`;
}
