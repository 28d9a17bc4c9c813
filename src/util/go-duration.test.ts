import { describe, expect, it } from 'vitest';
import { parseGoDuration } from './go-duration.ts';

describe('parseGoDuration', () => {
  it('reads containerd durations', () => {
    expect(parseGoDuration('4h0m0s', 'x')).toBe(4 * 3_600_000);
    expect(parseGoDuration('1m30s', 'x')).toBe(90_000);
    expect(parseGoDuration('1.5h', 'x')).toBe(5_400_000);
    expect(parseGoDuration('250ms', 'x')).toBe(250);
    expect(parseGoDuration('0', 'x')).toBe(0);
  });
  it('names the field of a malformed one', () => {
    expect(() => parseGoDuration('4 hours', 'stream_idle_timeout')).toThrow(/stream_idle_timeout: "4 hours"/);
    expect(() => parseGoDuration('', 'stream_idle_timeout')).toThrow(/stream_idle_timeout/);
  });
});
