import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { readCgroupUsage } from './cgroup-stats.ts';
import { nanoCores, type UsageSample } from './cri-stats.ts';
import { fakeCgroupRoot } from '../../test/helpers/fake-cgroups.ts';
import { SampleCache } from './sample-cache.ts';

const S: bigint = 1_000_000_000n;

/** A cache on a clock the test moves, sampling the fake cgroup /c: what ContainerStats reads. */
function usageCache(root: string) {
  let now = 100n * S;
  const cache = new SampleCache<UsageSample>(1000, () => now);
  let reads = 0;
  const sample = () =>
    cache.get('c', async (at, previous) => {
      reads++;
      const usage = await readCgroupUsage('/c', true, root);
      return { usage, nanoCores: nanoCores(usage.cpuNanos, at, previous) };
    });
  return { cache, sample, reads: () => reads, advance: (ns: bigint) => (now += ns) };
}

function writeUsage(root: string, usec: number, bytes: number): void {
  fs.writeFileSync(path.join(root, 'c/cpu.stat'), `usage_usec ${usec}\n`);
  fs.writeFileSync(path.join(root, 'c/memory.current'), `${bytes}\n`);
}

describe('SampleCache', () => {
  it('reads a cgroup once per interval, however many calls ask, and afresh after it', async () => {
    const root = fakeCgroupRoot({
      'c/cpu.stat': 'usage_usec 1000\n',
      'c/memory.current': '4096\n',
      'c/memory.stat': 'anon 10\n',
    });
    const t = usageCache(root);
    const [a, b] = await Promise.all([t.sample(), t.sample()]);
    expect(a).toBe(b);
    expect(t.reads()).toBe(1);
    writeUsage(root, 501_000, 8192);
    t.advance(S / 2n);
    expect((await t.sample()).value.usage.cpuNanos).toBe(1_000_000n);
    expect(t.reads()).toBe(1);
    t.advance(S / 2n);
    const fresh = await t.sample();
    expect(t.reads()).toBe(2);
    expect(fresh.value.usage.cpuNanos).toBe(501_000_000n);
    expect(fresh.value.usage.memory?.usageBytes).toBe(8192n);
    expect(fresh.at).toBe(101n * S);
    // 0.5 s of CPU in the 1 s between the two samples.
    expect(fresh.value.nanoCores).toBe(S / 2n);
    expect(a.value.nanoCores).toBeUndefined();
  });

  it('forgets the samples of objects that are gone', async () => {
    const root = fakeCgroupRoot({ 'c/cpu.stat': 'usage_usec 1000\n' });
    const t = usageCache(root);
    await t.sample();
    t.cache.retain(new Set(['other']));
    t.advance(2n * S);
    expect((await t.sample()).value.nanoCores).toBeUndefined();
    expect(t.reads()).toBe(2);
  });

  it('takes a new sample after a failed read', async () => {
    const cache = new SampleCache<number>(1000, () => 0n);
    await expect(cache.get('k', () => Promise.reject(new Error('gone')))).rejects.toThrow('gone');
    expect((await cache.get('k', async () => 7)).value).toBe(7);
  });
});

describe('nanoCores', () => {
  it('gives no rate without a usable previous sample', () => {
    const previous = { at: 10n * S, value: { usage: { cpuNanos: 2n * S } } };
    expect(nanoCores(3n * S, 12n * S, previous)).toBe(S / 2n);
    expect(nanoCores(S, 12n * S, previous)).toBeUndefined();
    expect(nanoCores(3n * S, 10n * S, previous)).toBeUndefined();
    expect(nanoCores(3n * S, 12n * S, undefined)).toBeUndefined();
  });
});
