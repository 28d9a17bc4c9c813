// Samples of what stats are made of (a cgroup's usage, a writable layer's size), kept for one interval:
// kubelet asks for container and pod stats in several calls each period, so each object's files are
// read once per interval however many calls ask, and calls that ask at the same time share one read.

export interface Sample<T> {
  /** When the sample was taken, ns since the epoch. */
  at: bigint;
  value: T;
}

/** Takes a sample at `at`, given the key's previous one (rates are computed between the two). */
export type SampleReader<T> = (at: bigint, previous: Sample<T> | undefined) => Promise<T>;

export class SampleCache<T> {
  private readonly samples = new Map<string, Sample<T>>();
  private readonly reading = new Map<string, Promise<Sample<T>>>();
  private readonly intervalNs: bigint;
  private readonly now: () => bigint;

  constructor(intervalMs: number, now: () => bigint) {
    this.intervalNs = BigInt(intervalMs) * 1_000_000n;
    this.now = now;
  }

  /** The key's sample when it is younger than the interval, else a new one. */
  get(key: string, read: SampleReader<T>): Promise<Sample<T>> {
    const at = this.now();
    const last = this.samples.get(key);
    if (last && at - last.at < this.intervalNs) return Promise.resolve(last);
    const pending = this.reading.get(key);
    if (pending) return pending;
    const next = read(at, last).then((value) => {
      const sample = { at, value };
      this.samples.set(key, sample);
      return sample;
    });
    this.reading.set(key, next);
    const forget = () => this.reading.delete(key);
    next.then(forget, forget);
    return next;
  }

  /** Drops the samples of objects that no longer exist. */
  retain(keys: Set<string>): void {
    for (const key of this.samples.keys()) if (!keys.has(key)) this.samples.delete(key);
  }
}
