// Gives the memory of removed pods and finished image pulls back to the system soon after such work
// stops. Their garbage otherwise stays in V8's heap until its memory reducer finds the daemon quiet,
// which it checks every 8 s (often 10–16 s after the last removal), and the buffers they freed stay
// in malloc's arenas. Once the work has paused: one full collection with V8's 'last-resort' flavour
// (compacting, and releasing the freed pages), then malloc_trim(3). Node exposes the collection with
// --expose-gc, which scripts/crid passes.
import type { Logger } from '../log.ts';
import { libc } from './libc.ts';

const mallocTrim = libc.func('int malloc_trim(size_t pad)');

/** Quiet time after the last such work before the collection: a burst of removals costs one. */
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

  /** A pod or container is gone, or a pull is over: collect once nothing else has for RELEASE_DELAY_MS. */
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
    mallocTrim(0);
    const after = process.memoryUsage();
    const mib = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
    this.log.info(
      { heapMiB: [mib(before.heapTotal), mib(after.heapTotal)], rssMiB: [mib(before.rss), mib(after.rss)] },
      'gave freed memory back',
    );
  }
}
