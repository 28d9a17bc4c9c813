import { describe, expect, it } from 'vitest';
import { readCgroupUsage, sumUsage } from './cgroup-stats.ts';
import { fakeCgroupRoot } from '../../test/helpers/fake-cgroups.ts';

describe('readCgroupUsage', () => {
  it('reads cgroup v1 controllers: working set is usage minus total_inactive_file', async () => {
    const root = fakeCgroupRoot({
      'cpuacct/pods/c1/cpuacct.usage': '123456789\n',
      'memory/pods/c1/memory.usage_in_bytes': '10000\n',
      'memory/pods/c1/memory.limit_in_bytes': '50000\n',
      'memory/pods/c1/memory.stat':
        'rss 10\ntotal_rss 4000\ntotal_inactive_file 3000\ntotal_pgfault 7\ntotal_pgmajfault 2\n',
    });
    expect(await readCgroupUsage('/pods/c1', false, root)).toEqual({
      cpuNanos: 123456789n,
      memory: {
        usageBytes: 10000n,
        workingSetBytes: 7000n,
        rssBytes: 4000n,
        pageFaults: 7n,
        majorPageFaults: 2n,
        availableBytes: 43000n,
      },
    });
  });

  it('treats v1 "unlimited" as no limit', async () => {
    const root = fakeCgroupRoot({
      'memory/c/memory.usage_in_bytes': '10',
      'memory/c/memory.limit_in_bytes': '9223372036854771712',
      'memory/c/memory.stat': 'total_inactive_file 20\n',
    });
    const usage = await readCgroupUsage('/c', false, root);
    expect(usage.memory?.workingSetBytes).toBe(0n);
    expect(usage.memory?.availableBytes).toBeUndefined();
    expect(usage.cpuNanos).toBeUndefined();
  });

  it('reads cgroup v2 files', async () => {
    const root = fakeCgroupRoot({
      'c/cpu.stat': 'usage_usec 1500\nuser_usec 1000\n',
      'c/memory.current': '8192\n',
      'c/memory.max': 'max\n',
      'c/memory.stat': 'anon 4096\ninactive_file 1024\npgfault 3\npgmajfault 1\n',
    });
    expect(await readCgroupUsage('/c', true, root)).toEqual({
      cpuNanos: 1_500_000n,
      memory: { usageBytes: 8192n, workingSetBytes: 7168n, rssBytes: 4096n, pageFaults: 3n, majorPageFaults: 1n },
    });
  });

  it('reports nothing for a cgroup that is gone', async () => {
    expect(await readCgroupUsage('/gone', false, fakeCgroupRoot({}))).toEqual({ cpuNanos: undefined });
  });
});

describe('sumUsage', () => {
  it('adds what is known', () => {
    const m = { usageBytes: 1n, workingSetBytes: 1n, rssBytes: 1n, pageFaults: 1n, majorPageFaults: 0n };
    expect(sumUsage([{ cpuNanos: 5n, memory: m }, { cpuNanos: 7n }, {}])).toEqual({
      cpuNanos: 12n,
      memory: { usageBytes: 1n, workingSetBytes: 1n, rssBytes: 1n, pageFaults: 1n, majorPageFaults: 0n },
    });
    expect(sumUsage([{}])).toEqual({ cpuNanos: undefined });
  });
});
