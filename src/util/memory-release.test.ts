import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryRelease, RELEASE_DELAY_MS } from './memory-release.ts';

function logLines(): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return { log: pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) }), lines };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('MemoryRelease', () => {
  it('collects once, with the last-resort flavour, when a burst of removals has paused', () => {
    vi.useFakeTimers();
    const collect = vi.fn();
    const { log, lines } = logLines();
    const memory = new MemoryRelease(log, collect);
    for (let i = 0; i < 5; i++) {
      memory.released();
      vi.advanceTimersByTime(RELEASE_DELAY_MS - 1);
    }
    expect(collect).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(collect).toHaveBeenCalledExactlyOnceWith({ type: 'major', flavor: 'last-resort' });
    expect(lines).toEqual([
      expect.objectContaining({
        msg: 'gave freed memory back',
        heapMiB: [expect.any(Number), expect.any(Number)],
      }),
    ]);
  });

  it('does nothing without a collector, and nothing after stop', () => {
    vi.useFakeTimers();
    const { log, lines } = logLines();
    new MemoryRelease(log, undefined).released();
    const collect = vi.fn();
    const memory = new MemoryRelease(log, collect);
    memory.released();
    memory.stop();
    vi.advanceTimersByTime(10 * RELEASE_DELAY_MS);
    expect(collect).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
  });
});
