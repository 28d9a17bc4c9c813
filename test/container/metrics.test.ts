// The CRI metrics of a real pod: a busy container's CPU grows between two calls, its working set is
// not zero, every metric is described and carries one label value per label key, and the streaming
// call answers the same pods.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPodEnv, type PodEnv } from '../helpers/pod-env.ts';
import { containerConfig, runContainer, runPod, type TestPod } from './container-env.ts';

interface Metric {
  name: string;
  timestamp: string;
  metric_type: string;
  label_values: string[];
  value: { value: string } | null;
}

interface PodMetrics {
  pod_sandbox_id: string;
  metrics: Metric[];
  container_metrics: Array<{ container_id: string; metrics: Metric[] }>;
}

describe('CRI metrics', () => {
  let env: PodEnv;
  let pod: TestPod;
  let busyId: string;

  beforeAll(async () => {
    env = await startPodEnv();
    await env.client.image.PullImage({ image: { image: env.busyboxImage } });
    pod = await runPod(env, 'metrics', 'runc');
    busyId = await runContainer(env, pod, containerConfig(env, 'busy', 'while :; do :; done'));
  }, 180_000);

  afterAll(async () => {
    await env?.dispose();
  }, 120_000);

  const listPods = async (): Promise<PodMetrics[]> => (await env.client.runtime.ListPodSandboxMetrics({})).pod_metrics;

  const busyMetrics = async (): Promise<Metric[]> => {
    const ours = (await listPods()).find((p) => p.pod_sandbox_id === pod.id);
    return ours?.container_metrics.find((c) => c.container_id === busyId)?.metrics ?? [];
  };

  const metricValue = (metrics: Metric[], name: string): bigint | undefined => {
    const found = metrics.find((m) => m.name === name);
    return found?.value ? BigInt(found.value.value) : undefined;
  };

  it('shows the busy container using more CPU from one call to the next, and a working set', async () => {
    const first = metricValue(await busyMetrics(), 'container_cpu_usage_seconds_total');
    expect(first).toBeDefined();
    let later = first!;
    while (later <= first!) {
      await new Promise((r) => setTimeout(r, 200));
      later = metricValue(await busyMetrics(), 'container_cpu_usage_seconds_total') ?? 0n;
    }
    expect(later).toBeGreaterThan(first!);
    const metrics = await busyMetrics();
    expect(metricValue(metrics, 'container_memory_working_set_bytes')).toBeGreaterThan(0n);
    expect(metricValue(metrics, 'container_processes')).toBeGreaterThanOrEqual(1n);
    const cpu = metrics.find((m) => m.name === 'container_cpu_usage_seconds_total')!;
    expect(cpu.metric_type).toBe('COUNTER');
    expect(cpu.label_values.slice(0, 6)).toEqual([
      busyId,
      expect.stringContaining('busy'),
      env.busyboxImage,
      'busy',
      'metrics',
      'crid-test',
    ]);
  }, 60_000);

  it('reports pod-level metrics of the ready pod', async () => {
    const ours = (await listPods()).find((p) => p.pod_sandbox_id === pod.id)!;
    expect(metricValue(ours.metrics, 'container_memory_working_set_bytes')).toBeGreaterThan(0n);
    expect(metricValue(ours.metrics, 'container_cpu_usage_seconds_total')).toBeGreaterThanOrEqual(0n);
    expect(BigInt(ours.metrics[0]!.timestamp)).toBeGreaterThan(0n);
  });

  it('describes every metric it sends, with one label value per label key', async () => {
    const { descriptors } = await env.client.runtime.ListMetricDescriptors({});
    const keys = new Map<string, string[]>(
      descriptors.map((d: { name: string; label_keys: string[] }) => [d.name, d.label_keys]),
    );
    const all = (await listPods()).flatMap((p) => [...p.metrics, ...p.container_metrics.flatMap((c) => c.metrics)]);
    expect(all.length).toBeGreaterThan(0);
    for (const m of all) {
      expect(keys.has(m.name), m.name).toBe(true);
      expect(m.label_values, m.name).toHaveLength(keys.get(m.name)!.length);
    }
  });

  it('streams the same pods as the List call', async () => {
    const streamed: PodMetrics[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = env.client.stream('StreamPodSandboxMetrics', {});
      call.on('data', (page: { pod_sandbox_metrics: PodMetrics[] }) => streamed.push(...page.pod_sandbox_metrics));
      call.on('end', resolve);
      call.on('error', reject);
    });
    const listed = await listPods();
    expect(streamed.map((p) => p.pod_sandbox_id).sort()).toEqual(listed.map((p) => p.pod_sandbox_id).sort());
    expect(streamed.find((p) => p.pod_sandbox_id === pod.id)?.container_metrics.map((c) => c.container_id)).toEqual([
      busyId,
    ]);
  });
});
