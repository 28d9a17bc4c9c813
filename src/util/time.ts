// Wall-clock anchored once, then advanced by the monotonic clock: ns precision without going backwards.
const ANCHOR = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Now, in ns since the epoch, as the decimal string CRI's int64 timestamps travel as. */
export function nowNanos(): string {
  return (ANCHOR + process.hrtime.bigint()).toString();
}
