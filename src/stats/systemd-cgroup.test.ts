import { describe, expect, it } from 'vitest';
import { oomKillCount } from '../pod/events/container-oom.ts';
import { cgroupsPath } from '../oci/host.ts';
import { readCgroupUsage } from './cgroup-stats.ts';
import { podSandboxMetricsOf } from './cri-metrics.ts';
import { fakeCgroupRoot } from '../../test/helpers/fake-cgroups.ts';
import type { ContainerRecord } from '../store/container.ts';
import type { SandboxRecord } from '../store/sandbox.ts';
import { cgroupRelativePath, expandSlice } from './systemd-cgroup.ts';

const POD_SLICE = 'kubepods-burstable-pod1234.slice';
const POD_DIR = 'kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice';

describe('expandSlice', () => {
  it('expands a slice into its ancestry as systemd lays it out', () => {
    expect(expandSlice(POD_SLICE)).toBe(`/${POD_DIR}`);
    expect(expandSlice('system.slice')).toBe('/system.slice');
    expect(expandSlice('-.slice')).toBe('/');
  });

  it('refuses what is not a slice name', () => {
    expect(expandSlice('crid')).toBeUndefined();
    expect(expandSlice('a--b.slice')).toBeUndefined();
    expect(expandSlice('/kubepods.slice')).toBeUndefined();
  });
});

describe('cgroupRelativePath', () => {
  it('turns runc\'s "slice:prefix:name" into the scope under the expanded slice', () => {
    expect(cgroupRelativePath(`${POD_SLICE}:cri-containerd:abc`)).toBe(`/${POD_DIR}/cri-containerd-abc.scope`);
    expect(cgroupRelativePath(cgroupsPath(`/${POD_DIR}`, 'abc'))).toBe(`/${POD_DIR}/crid-abc.scope`);
    expect(cgroupRelativePath(':crid:abc')).toBe('/system.slice/crid-abc.scope');
    expect(cgroupRelativePath(`${POD_SLICE}:crid:sub.slice`)).toBe(`/${POD_DIR}/sub.slice`);
  });

  it("expands kubelet's systemd pod parent and keeps cgroupfs paths as they are", () => {
    expect(cgroupRelativePath(POD_SLICE)).toBe(`/${POD_DIR}`);
    expect(cgroupRelativePath('/kubepods/burstable/pod1234/abc')).toBe('/kubepods/burstable/pod1234/abc');
  });
});

describe('reading cgroups placed by the systemd driver', () => {
  const id = 'abc';
  const scope = `${POD_DIR}/crid-${id}.scope`;

  it('reads CPU and memory of a container on cgroup v1', async () => {
    const root = fakeCgroupRoot({
      [`cpu,cpuacct/${scope}/cpuacct.usage`]: '42000\n',
      [`memory/${scope}/memory.usage_in_bytes`]: '9000\n',
      [`memory/${scope}/memory.limit_in_bytes`]: '10000\n',
      [`memory/${scope}/memory.stat`]: 'total_rss 5000\ntotal_inactive_file 1000\n',
    });
    const usage = await readCgroupUsage(cgroupsPath(POD_SLICE, id), false, root);
    expect(usage.cpuNanos).toBe(42000n);
    expect(usage.memory).toMatchObject({ usageBytes: 9000n, workingSetBytes: 8000n, availableBytes: 2000n });
  });

  it('reads CPU and memory of a container on cgroup v2', async () => {
    const root = fakeCgroupRoot({
      [`${scope}/cpu.stat`]: 'usage_usec 7\n',
      [`${scope}/memory.current`]: '4096\n',
      [`${scope}/memory.stat`]: 'anon 1024\ninactive_file 96\n',
    });
    const usage = await readCgroupUsage(cgroupsPath(POD_SLICE, id), true, root);
    expect(usage).toMatchObject({
      cpuNanos: 7000n,
      memory: { usageBytes: 4096n, workingSetBytes: 4000n, rssBytes: 1024n },
    });
  });

  it('counts OOM kills in a systemd scope, v1 and v2', () => {
    const v1 = fakeCgroupRoot({ [`memory/${scope}/memory.oom_control`]: 'oom_kill_disable 0\noom_kill 2\n' });
    const v2 = fakeCgroupRoot({ [`${scope}/memory.events`]: 'oom 1\noom_kill 1\n' });
    expect(oomKillCount(cgroupsPath(POD_SLICE, id), false, v1)).toBe(2n);
    expect(oomKillCount(cgroupsPath(POD_SLICE, id), true, v2)).toBe(1n);
  });

  it("gives CRI metrics of a pod whose parent is kubelet's systemd slice, and of its container", async () => {
    const v2 = (dir: string, usec: number) => ({
      [`${dir}/cpu.stat`]: `usage_usec ${usec}\n`,
      [`${dir}/memory.current`]: '100\n',
      [`${dir}/memory.stat`]: 'anon 100\n',
      [`${dir}/cgroup.procs`]: '',
    });
    const root = fakeCgroupRoot({ ...v2(POD_DIR, 3_000_000), ...v2(scope, 2_000_000) });
    const pod = {
      id: 'pod1',
      name: 'p',
      state: 'SANDBOX_READY',
      createdAt: '0',
      config: { metadata: {}, linux: { cgroup_parent: POD_SLICE } },
    };
    const c = {
      id,
      sandboxId: 'pod1',
      name: 'c',
      imageName: 'i',
      state: 'CONTAINER_RUNNING',
      startedAt: '0',
      cgroupsPath: cgroupsPath(POD_SLICE, id),
      config: { metadata: {} },
    };
    const m = await podSandboxMetricsOf(pod as unknown as SandboxRecord, [c as unknown as ContainerRecord], {
      cgroupV2: true,
      defaultCgroupParent: '/crid',
      cgroupRoot: root,
    });
    const cpu = (metrics: typeof m.metrics) =>
      metrics!.find((x) => x.name === 'container_cpu_usage_seconds_total')?.value?.value;
    expect(cpu(m.metrics)).toBe('3');
    expect(cpu(m.container_metrics![0]!.metrics)).toBe('2');
  });
});
