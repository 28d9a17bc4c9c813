import { describe, expect, it } from 'vitest';
import type { ContainerRecord } from '../store/container.ts';
import type { SandboxRecord } from '../store/sandbox.ts';
import { BASE_LABEL_KEYS, metricDescriptors, metricsOf, podSandboxMetricsOf } from './cri-metrics.ts';
import { fakeCgroupRoot } from '../../test/helpers/fake-cgroups.ts';

const sandbox = (extra: Record<string, unknown> = {}) =>
  ({
    id: 'pod1',
    name: 'web_ns_uid_0',
    state: 'SANDBOX_READY',
    createdAt: '1700000000500000000',
    config: { metadata: { name: 'web', namespace: 'ns', uid: 'uid', attempt: 0 }, linux: {} },
    ...extra,
  }) as unknown as SandboxRecord;

const container = (id: string, state: string) =>
  ({
    id,
    sandboxId: 'pod1',
    name: `${id}_web_ns_uid_0`,
    imageName: 'registry.local/app:1',
    state,
    startedAt: '1700000001000000000',
    cgroupsPath: `/crid/${id}`,
    config: { metadata: { name: id, attempt: 0 } },
  }) as unknown as ContainerRecord;

const v2Cgroup = (dir: string, usageUsec: number, current: number) => ({
  [`${dir}/cpu.stat`]: `usage_usec ${usageUsec}\nuser_usec ${usageUsec}\nsystem_usec 0\n`,
  [`${dir}/memory.current`]: `${current}\n`,
  [`${dir}/memory.max`]: 'max\n',
  [`${dir}/memory.stat`]: 'anon 100\ninactive_file 0\npgfault 1\npgmajfault 0\n',
  [`${dir}/cgroup.procs`]: '7\n',
});

const host = (root: string) => ({ cgroupV2: true, defaultCgroupParent: '/crid', cgroupRoot: root });

describe('metricDescriptors', () => {
  it('names each metric once, with the base label keys first', () => {
    const descriptors = metricDescriptors();
    const names = descriptors.map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining([
        'container_cpu_usage_seconds_total',
        'container_memory_working_set_bytes',
        'container_oom_events_total',
      ]),
    );
    for (const d of descriptors) expect(d.label_keys!.slice(0, BASE_LABEL_KEYS.length)).toEqual(BASE_LABEL_KEYS);
    expect(descriptors.find((d) => d.name === 'container_cpu_usage_seconds_total')!.label_keys).toEqual([
      ...BASE_LABEL_KEYS,
      'cpu',
    ]);
  });
});

describe('metricsOf', () => {
  const base = ['id', 'name', 'image', 'container', 'pod', 'namespace'];

  it('gives whole seconds, counters as COUNTER, one label value per label key', () => {
    const metrics = metricsOf(
      { sample: { cpuNanos: 2_999_999_999n, workingSet: 4096n }, at: 5_000_000_000n, startedAt: 1_000_000_000n },
      base,
    );
    const keys = new Map(metricDescriptors().map((d) => [d.name, d.label_keys!]));
    for (const m of metrics) expect(m.label_values).toHaveLength(keys.get(m.name!)!.length);
    expect(metrics).toContainEqual({
      name: 'container_cpu_usage_seconds_total',
      timestamp: '5000000000',
      metric_type: 'COUNTER',
      label_values: [...base, 'total'],
      value: { value: '2' },
    });
    expect(metrics.find((m) => m.name === 'container_memory_working_set_bytes')).toMatchObject({
      metric_type: 'GAUGE',
      value: { value: '4096' },
    });
    expect(metrics.find((m) => m.name === 'container_last_seen')?.value).toEqual({ value: '5' });
    expect(metrics.find((m) => m.name === 'container_start_time_seconds')?.value).toEqual({ value: '1' });
  });

  it('leaves out what the cgroup did not tell', () => {
    const names = metricsOf({ sample: {}, at: 1n, startedAt: 0n }, base).map((m) => m.name);
    expect(names).toEqual(['container_start_time_seconds', 'container_last_seen']);
  });

  it('reports page faults per failure type and scope', () => {
    const metrics = metricsOf(
      {
        sample: { pageFaults: 1n, pageFaultsHierarchy: 2n, majorPageFaults: 3n, majorPageFaultsHierarchy: 4n },
        at: 1n,
        startedAt: 0n,
      },
      base,
    );
    const faults = metrics
      .filter((m) => m.name === 'container_memory_failures_total')
      .map((m) => [...m.label_values!.slice(6), m.value!.value]);
    expect(faults).toEqual([
      ['pgfault', 'container', '1'],
      ['pgfault', 'hierarchy', '2'],
      ['pgmajfault', 'container', '3'],
      ['pgmajfault', 'hierarchy', '4'],
    ]);
  });
});

describe('podSandboxMetricsOf', () => {
  const value = (metrics: Array<{ name?: string; value?: { value?: unknown } | null }>, name: string) =>
    metrics.find((m) => m.name === name)?.value?.value;

  it('sums the sandbox and running containers for a pod without a cgroup parent; running containers only', async () => {
    const root = fakeCgroupRoot({ ...v2Cgroup('crid/pod1', 1_000_000, 1000), ...v2Cgroup('crid/a', 2_000_000, 3000) });
    const m = await podSandboxMetricsOf(
      sandbox(),
      [container('a', 'CONTAINER_RUNNING'), container('b', 'CONTAINER_EXITED')],
      host(root),
    );
    expect(m.pod_sandbox_id).toBe('pod1');
    expect(value(m.metrics!, 'container_cpu_usage_seconds_total')).toBe('3');
    expect(value(m.metrics!, 'container_memory_working_set_bytes')).toBe('4000');
    expect(value(m.metrics!, 'container_processes')).toBe('2');
    expect(value(m.metrics!, 'container_start_time_seconds')).toBe('1700000000');
    expect(m.metrics![0]!.label_values).toEqual(['pod1', 'web_ns_uid_0', '', '', 'web', 'ns', 'total']);
    expect(m.container_metrics!.map((c) => c.container_id)).toEqual(['a']);
    const a = m.container_metrics![0]!.metrics!;
    expect(value(a, 'container_cpu_usage_seconds_total')).toBe('2');
    expect(a[0]!.label_values).toEqual(['a', 'a_web_ns_uid_0', 'registry.local/app:1', 'a', 'web', 'ns', 'total']);
  });

  it("reads the pod's own cgroup when it has a cgroup parent", async () => {
    const root = fakeCgroupRoot({
      ...v2Cgroup('kubepods/podx', 5_000_000, 100),
      'kubepods/podx/memory.max': '1048576\n',
    });
    const m = await podSandboxMetricsOf(
      sandbox({ config: { metadata: { name: 'web', namespace: 'ns' }, linux: { cgroup_parent: '/kubepods/podx' } } }),
      [],
      host(root),
    );
    expect(value(m.metrics!, 'container_cpu_usage_seconds_total')).toBe('5');
    expect(value(m.metrics!, 'container_spec_memory_limit_bytes')).toBe('1048576');
  });
});
