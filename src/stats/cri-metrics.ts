// The CRI metrics (ListMetricDescriptors, ListPodSandboxMetrics): cAdvisor's container_* series,
// measured from cgroups, that kubelet serves at /metrics/cadvisor when it takes stats from the
// runtime. Kubelet exposes each value as it comes, so "seconds" metrics carry whole seconds (as
// CRI-O sends them) and label_values follow the descriptor's label_keys one for one.
import type { ContainerMetrics } from '../generated/runtime/v1/ContainerMetrics.ts';
import type { Metric } from '../generated/runtime/v1/Metric.ts';
import type { MetricDescriptor } from '../generated/runtime/v1/MetricDescriptor.ts';
import type { PodSandboxMetrics } from '../generated/runtime/v1/PodSandboxMetrics.ts';
import { cgroupsPath } from '../oci/host.ts';
import type { ContainerRecord } from '../store/container.ts';
import type { SandboxRecord } from '../store/sandbox.ts';
import { nowNanos } from '../util/time.ts';
import { readCgroupSample, sumSamples, type CgroupSample, type SampleKey } from './cri-metrics-cgroup.ts';

/** cAdvisor's labels as kubelet shows them: runtime id and name, image, and the Kubernetes names. */
export const BASE_LABEL_KEYS = ['id', 'name', 'image', 'container', 'pod', 'namespace'];

/** What a series is computed from: the cgroup, when it was read, and when its object started (ns). */
export interface MetricInput {
  sample: CgroupSample;
  at: bigint;
  startedAt: bigint;
}

type Series = Array<{ labels: string[]; value: bigint | undefined }>;

interface MetricDef {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE';
  /** Label keys after the base ones. */
  extraKeys: string[];
  series: (input: MetricInput) => Series;
}

const NS_PER_SECOND = 1_000_000_000n;
const seconds = (ns: bigint | undefined) => (ns === undefined ? undefined : ns / NS_PER_SECOND);
const one = (value: bigint | undefined): Series => [{ labels: [], value }];

function def(
  name: string,
  type: MetricDef['type'],
  help: string,
  series: MetricDef['series'],
  extraKeys: string[] = [],
): MetricDef {
  return { name, help, type, extraKeys, series };
}

const field = (key: SampleKey) => (i: MetricInput) => one(i.sample[key]);
const secondsOf = (key: SampleKey) => (i: MetricInput) => one(seconds(i.sample[key]));

const faults = ({ sample: s }: MetricInput): Series => [
  { labels: ['pgfault', 'container'], value: s.pageFaults },
  { labels: ['pgfault', 'hierarchy'], value: s.pageFaultsHierarchy },
  { labels: ['pgmajfault', 'container'], value: s.majorPageFaults },
  { labels: ['pgmajfault', 'hierarchy'], value: s.majorPageFaultsHierarchy },
];

const METRICS: MetricDef[] = [
  def(
    'container_cpu_usage_seconds_total',
    'COUNTER',
    'Cumulative CPU time consumed in seconds.',
    (i) => [{ labels: ['total'], value: seconds(i.sample.cpuNanos) }],
    ['cpu'],
  ),
  def(
    'container_cpu_user_seconds_total',
    'COUNTER',
    'Cumulative user CPU time consumed in seconds.',
    secondsOf('cpuUserNanos'),
  ),
  def(
    'container_cpu_system_seconds_total',
    'COUNTER',
    'Cumulative system CPU time consumed in seconds.',
    secondsOf('cpuSystemNanos'),
  ),
  def(
    'container_cpu_cfs_periods_total',
    'COUNTER',
    'Number of elapsed enforcement period intervals.',
    field('cfsPeriods'),
  ),
  def(
    'container_cpu_cfs_throttled_periods_total',
    'COUNTER',
    'Number of throttled period intervals.',
    field('cfsThrottledPeriods'),
  ),
  def(
    'container_cpu_cfs_throttled_seconds_total',
    'COUNTER',
    'Total time duration the container has been throttled.',
    secondsOf('cfsThrottledNanos'),
  ),
  def(
    'container_memory_usage_bytes',
    'GAUGE',
    'Current memory usage in bytes, including all memory regardless of when it was accessed.',
    field('memoryUsage'),
  ),
  def('container_memory_max_usage_bytes', 'GAUGE', 'Maximum memory usage recorded in bytes.', field('memoryMaxUsage')),
  def('container_memory_working_set_bytes', 'GAUGE', 'Current working set in bytes.', field('workingSet')),
  def('container_memory_rss', 'GAUGE', 'Size of RSS in bytes.', field('rss')),
  def('container_memory_cache', 'GAUGE', 'Number of bytes of page cache memory.', field('cache')),
  def('container_memory_mapped_file', 'GAUGE', 'Size of memory mapped files in bytes.', field('mappedFile')),
  def('container_memory_swap', 'GAUGE', 'Container swap usage in bytes.', field('swap')),
  def('container_memory_failures_total', 'COUNTER', 'Cumulative count of memory allocation failures.', faults, [
    'failure_type',
    'scope',
  ]),
  def(
    'container_spec_memory_limit_bytes',
    'GAUGE',
    'Memory limit for the container in bytes (0: unlimited).',
    field('memoryLimit'),
  ),
  def(
    'container_oom_events_total',
    'COUNTER',
    'Count of out of memory events observed for the container.',
    field('oomKills'),
  ),
  def('container_processes', 'GAUGE', 'Number of processes running inside the container.', field('processes')),
  def('container_threads', 'GAUGE', 'Number of threads running inside the container.', field('threads')),
  def(
    'container_threads_max',
    'GAUGE',
    'Maximum number of threads allowed inside the container, infinity if value is zero.',
    field('threadsMax'),
  ),
  def('container_start_time_seconds', 'GAUGE', 'Start time of the container since unix epoch in seconds.', (i) =>
    one(seconds(i.startedAt)),
  ),
  def('container_last_seen', 'GAUGE', 'Last time a container was seen by the exporter.', (i) => one(seconds(i.at))),
];

export function metricDescriptors(): MetricDescriptor[] {
  return METRICS.map((m) => ({ name: m.name, help: m.help, label_keys: [...BASE_LABEL_KEYS, ...m.extraKeys] }));
}

/** The metrics of one cgroup, labelled with the base label values; series without a value are left out. */
export function metricsOf(input: MetricInput, baseLabels: string[]): Metric[] {
  const timestamp = input.at.toString();
  return METRICS.flatMap((m) =>
    m.series(input).flatMap(({ labels, value }) =>
      value === undefined
        ? []
        : [
            {
              name: m.name,
              timestamp,
              metric_type: m.type,
              label_values: [...baseLabels, ...labels],
              value: { value: `${value}` },
            },
          ],
    ),
  );
}

/** Base label values of a container: [id, name, image, container, pod, namespace]. */
export function containerLabels(c: ContainerRecord, s: SandboxRecord): string[] {
  const pod = s.config.metadata;
  return [c.id, c.name, c.imageName, c.config.metadata?.name ?? '', pod?.name ?? '', pod?.namespace ?? ''];
}

/** A pod's own series have no container, as cAdvisor's pod-cgroup series have none. */
export function podLabels(s: SandboxRecord): string[] {
  const pod = s.config.metadata;
  return [s.id, s.name, '', '', pod?.name ?? '', pod?.namespace ?? ''];
}

async function sampleAt(read: Promise<CgroupSample>): Promise<{ sample: CgroupSample; at: bigint }> {
  const sample = await read;
  return { sample, at: BigInt(nowNanos()) };
}

/** Where the cgroups are: cgroup version, the parent of pods without one, and the mount (tests use a fake tree). */
export interface CgroupHost {
  cgroupV2: boolean;
  defaultCgroupParent: string;
  cgroupRoot?: string;
}

const read = (path: string, host: CgroupHost) => readCgroupSample(path, host.cgroupV2, host.cgroupRoot);

async function containerMetricsOf(c: ContainerRecord, s: SandboxRecord, host: CgroupHost): Promise<ContainerMetrics> {
  const { sample, at } = await sampleAt(read(c.cgroupsPath, host));
  return {
    container_id: c.id,
    metrics: metricsOf({ sample, at, startedAt: BigInt(c.startedAt) }, containerLabels(c, s)),
  };
}

/**
 * A pod's cgroup: its cgroup parent when it has one of its own (kubelet's pod cgroup), else the sum of
 * its sandbox's and running containers' cgroups.
 */
async function podSample(s: SandboxRecord, running: ContainerRecord[], host: CgroupHost): Promise<CgroupSample> {
  const parent = s.config.linux?.cgroup_parent;
  if (parent) return read(parent, host);
  const sandboxCgroup = cgroupsPath(host.defaultCgroupParent, s.id);
  return sumSamples(await Promise.all([read(sandboxCgroup, host), ...running.map((c) => read(c.cgroupsPath, host))]));
}

/** The metrics of a ready pod and of those of its containers that run (with a cgroup to read). */
export async function podSandboxMetricsOf(
  s: SandboxRecord,
  containers: ContainerRecord[],
  host: CgroupHost,
): Promise<PodSandboxMetrics> {
  const running = containers.filter((c) => c.state === 'CONTAINER_RUNNING' && c.cgroupsPath);
  const [pod, perContainer] = await Promise.all([
    sampleAt(podSample(s, running, host)),
    Promise.all(running.map((c) => containerMetricsOf(c, s, host))),
  ]);
  return {
    pod_sandbox_id: s.id,
    metrics: metricsOf({ ...pod, startedAt: BigInt(s.createdAt) }, podLabels(s)),
    container_metrics: perContainer,
  };
}
