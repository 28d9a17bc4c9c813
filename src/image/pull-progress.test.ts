import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { PullProgress } from './pull-progress.ts';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: 'info' },
    { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { log, lines };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('PullProgress', () => {
  it('logs bytes of the total every few seconds while data arrives, and nothing while none does', () => {
    const { log, lines } = capture();
    const progress = new PullProgress({ log, stallTimeoutMs: 0, onStall: () => {} });
    progress.expect(1000);
    const done = progress.begin();
    progress.received(100);
    vi.advanceTimersByTime(5000);
    progress.received(150);
    vi.advanceTimersByTime(1000);
    expect(lines.map((l) => [l.msg, l.bytes, l.total])).toEqual([['pulling image', 100, 1000]]);
    vi.advanceTimersByTime(4000);
    vi.advanceTimersByTime(5000);
    expect(lines.map((l) => l.bytes)).toEqual([100, 250]);
    done();
    progress.stop();
  });

  it('reports a stall once no data came for the timeout while a request is in flight, not while none is', () => {
    const { log } = capture();
    const stalls: Error[] = [];
    const progress = new PullProgress({ log, stallTimeoutMs: 1000, onStall: (err) => stalls.push(err) });
    vi.advanceTimersByTime(5000);
    expect(stalls).toEqual([]);
    progress.begin();
    vi.advanceTimersByTime(700);
    progress.received(1);
    vi.advanceTimersByTime(700);
    expect(stalls).toEqual([]);
    vi.advanceTimersByTime(1000);
    expect(stalls).toHaveLength(1);
    expect(stalls[0]!.message).toMatch(/no data from the registry for 1 s \(image_pull_progress_timeout\)/);
  });
});
