import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { countProcesses, readCgroupSample, sumSamples } from './cri-metrics-cgroup.ts';
import { fakeCgroupRoot } from '../../test/helpers/fake-cgroups.ts';

describe('readCgroupSample', () => {
  it('reads the v1 controllers, cpu and cpuacct co-mounted', async () => {
    const root = fakeCgroupRoot({
      'cpu,cpuacct/p/c/cpuacct.usage': '3500000000\n',
      'cpu,cpuacct/p/c/cpuacct.usage_user': '3000000000\n',
      'cpu,cpuacct/p/c/cpuacct.usage_sys': '500000000\n',
      'cpu,cpuacct/p/c/cpu.stat': 'nr_periods 10\nnr_throttled 4\nthrottled_time 2000000000\n',
      'memory/p/c/memory.usage_in_bytes': '10000\n',
      'memory/p/c/memory.max_usage_in_bytes': '12000\n',
      'memory/p/c/memory.limit_in_bytes': '9223372036854771712\n',
      'memory/p/c/memory.memsw.usage_in_bytes': '10500\n',
      'memory/p/c/memory.stat':
        'rss 1\npgfault 5\npgmajfault 1\ntotal_rss 4000\ntotal_cache 6000\ntotal_mapped_file 300\ntotal_inactive_file 2500\ntotal_pgfault 7\ntotal_pgmajfault 2\n',
      'memory/p/c/memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 3\n',
      'pids/p/c/pids.current': '4\n',
      'pids/p/c/pids.max': 'max\n',
      'pids/p/c/cgroup.procs': '100\n101\n',
    });
    expect(await readCgroupSample('/p/c', false, root)).toEqual({
      cpuNanos: 3_500_000_000n,
      cpuUserNanos: 3_000_000_000n,
      cpuSystemNanos: 500_000_000n,
      cfsPeriods: 10n,
      cfsThrottledPeriods: 4n,
      cfsThrottledNanos: 2_000_000_000n,
      memoryUsage: 10000n,
      memoryMaxUsage: 12000n,
      workingSet: 7500n,
      rss: 4000n,
      cache: 6000n,
      mappedFile: 300n,
      swap: 500n,
      pageFaults: 5n,
      pageFaultsHierarchy: 7n,
      majorPageFaults: 1n,
      majorPageFaultsHierarchy: 2n,
      memoryLimit: 0n,
      oomKills: 3n,
      processes: 2n,
      threads: 4n,
      threadsMax: 0n,
    });
  });

  it('reads the v2 files, microseconds as ns', async () => {
    const root = fakeCgroupRoot({
      'p/c/cpu.stat':
        'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 2\nnr_throttled 1\nthrottled_usec 30\n',
      'p/c/memory.current': '8192\n',
      'p/c/memory.peak': '9000\n',
      'p/c/memory.max': '65536\n',
      'p/c/memory.swap.current': '0\n',
      'p/c/memory.stat': 'anon 4096\nfile 2048\nfile_mapped 100\ninactive_file 1024\npgfault 3\npgmajfault 1\n',
      'p/c/memory.events': 'low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n',
      'p/c/pids.current': '1\n',
      'p/c/pids.max': '1024\n',
      'p/c/cgroup.procs': '42\n',
    });
    expect(await readCgroupSample('/p/c', true, root)).toEqual({
      cpuNanos: 1_500_000n,
      cpuUserNanos: 1_000_000n,
      cpuSystemNanos: 500_000n,
      cfsPeriods: 2n,
      cfsThrottledPeriods: 1n,
      cfsThrottledNanos: 30_000n,
      memoryUsage: 8192n,
      memoryMaxUsage: 9000n,
      workingSet: 7168n,
      rss: 4096n,
      cache: 2048n,
      mappedFile: 100n,
      swap: 0n,
      pageFaults: 3n,
      pageFaultsHierarchy: 3n,
      majorPageFaults: 1n,
      majorPageFaultsHierarchy: 1n,
      memoryLimit: 65536n,
      oomKills: 1n,
      processes: 1n,
      threads: 1n,
      threadsMax: 1024n,
    });
  });

  it('leaves out what a gone cgroup cannot tell', async () => {
    expect(await readCgroupSample('/gone', false, fakeCgroupRoot({}))).toEqual({});
    expect(await readCgroupSample('/gone', true, fakeCgroupRoot({}))).toEqual({});
  });
});

describe('countProcesses', () => {
  it('counts the processes of the cgroup and of the cgroups below it', async () => {
    const root = fakeCgroupRoot({
      'pod/cgroup.procs': '',
      'pod/sandbox/cgroup.procs': '1\n',
      'pod/app/cgroup.procs': '2\n3\n',
      'pod/app/inner/cgroup.procs': '4\n',
    });
    expect(await countProcesses(path.join(root, 'pod'))).toBe(4n);
    expect(await countProcesses(path.join(root, 'none'))).toBeUndefined();
  });
});

describe('sumSamples', () => {
  it('adds usages and counters, leaves out limits and peaks', () => {
    expect(
      sumSamples([
        { cpuNanos: 5n, workingSet: 10n, memoryLimit: 100n, memoryMaxUsage: 20n, threadsMax: 9n },
        { cpuNanos: 7n, processes: 1n },
        {},
      ]),
    ).toEqual({ cpuNanos: 12n, workingSet: 10n, processes: 1n });
  });
});
