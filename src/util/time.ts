// Wall-clock anchored once, then advanced by the monotonic clock: ns precision without going backwards.
const ANCHOR = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Now, in ns since the epoch, as the decimal string CRI's int64 timestamps travel as. */
export function nowNanos(): string {
  return (ANCHOR + process.hrtime.bigint()).toString();
}

/** Node's timers fire at once past 2^31-1 ms (about 24.8 days); a longer wait is that long. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A timeout in seconds as a delay Node's timers honour. */
export function timerDelayMs(seconds: number): number {
  return Math.min(seconds * 1000, MAX_TIMER_MS);
}
