// Gives the memory of removed pods back to the system soon after the removals stop. Their garbage
// otherwise stays in V8's heap until its memory reducer finds the daemon quiet, which it checks every
// 8 s: often 10–16 s after the last removal. One full collection with V8's 'last-resort' flavour
// (compacting, and releasing the freed pages) once removals have paused does it within seconds.
// Node exposes it with --expose-gc, which scripts/crid passes.
import type { Logger } from '../log.ts';

/** Quiet time after the last removal before the collection: a burst of removals costs one. */
export const RELEASE_DELAY_MS = 2000;

type Collect = (options: { type: 'major'; flavor: 'last-resort' }) => void;

export class MemoryRelease {
  private timer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  private readonly collect: Collect | undefined;

  constructor(log: Logger, collect = (globalThis as { gc?: Collect }).gc) {
    this.log = log;
    this.collect = collect;
  }

  /** A pod or container is gone: collect once no other has gone for RELEASE_DELAY_MS. */
  released(): void {
    if (!this.collect) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.release(), RELEASE_DELAY_MS);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private release(): void {
    const before = process.memoryUsage();
    this.collect!({ type: 'major', flavor: 'last-resort' });
    const after = process.memoryUsage();
    const mib = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
    this.log.info(
      { heapMiB: [mib(before.heapTotal), mib(after.heapTotal)], rssMiB: [mib(before.rss), mib(after.rss)] },
      'gave the memory of removed pods back',
    );
  }
}
