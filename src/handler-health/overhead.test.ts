import { describe, expect, it } from 'vitest';
import { proposeOverhead, type PodCostSample } from './overhead.ts';
import { readProcessCpuSeconds, readProcessMemory } from './proc-usage.ts';

const MI = 1024 * 1024;
const sample = (shimMi: number, sandboxMi: number, cpuSeconds: number): PodCostSample => ({
  shimBytes: shimMi * MI,
  sandboxBytes: sandboxMi * MI,
  memoryKind: 'pss',
  cpuSeconds,
  windowSeconds: 10,
});

describe('proposeOverhead', () => {
  it('takes the largest pod, adds 20%, rounds memory up to Mi and cpu up to millicores', () => {
    const p = proposeOverhead([sample(10, 0.5, 0.01), sample(12, 0.5, 0.02), sample(11, 0.5, 0.015)]);
    expect(p).toMatchObject({
      memory: '15Mi',
      cpu: '3m',
      marginPercent: 20,
      maxMemoryBytes: 12.5 * MI,
      maxCpuCores: 0.002,
    });
    expect(p.meanMemoryBytes).toBeCloseTo(11.5 * MI);
  });

  it('an idle pod still costs at least 1m; the margin is adjustable; no samples is an error', () => {
    expect(proposeOverhead([sample(1, 0, 0)], 0)).toMatchObject({ cpu: '1m', memory: '1Mi' });
    expect(proposeOverhead([sample(100, 60, 1)], 50)).toMatchObject({ cpu: '150m', memory: '240Mi' });
    expect(() => proposeOverhead([])).toThrow(RangeError);
  });
});

describe('proc usage', () => {
  it("reads this process's memory (PSS where smaps_rollup exists) and CPU time", () => {
    const m = readProcessMemory(process.pid);
    expect(m.rssBytes).toBeGreaterThan(MI);
    expect(m.pssBytes).toBeGreaterThan(0);
    expect(readProcessCpuSeconds(process.pid)).toBeGreaterThan(0);
  });
});
