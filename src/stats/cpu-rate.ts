// usage_nano_cores: CPU time used per wall-clock ns between two samples of the same cgroup, as
// containerd computes it from the previous sample it keeps.

interface Sample {
  cpuNanos: bigint;
  at: bigint;
}

export class CpuRates {
  private readonly last = new Map<string, Sample>();

  /** Records the sample and returns the rate since the previous one, undefined for the first. */
  rate(key: string, cpuNanos: bigint, at: bigint): bigint | undefined {
    const previous = this.last.get(key);
    this.last.set(key, { cpuNanos, at });
    if (!previous || at <= previous.at || cpuNanos < previous.cpuNanos) return undefined;
    return ((cpuNanos - previous.cpuNanos) * 1_000_000_000n) / (at - previous.at);
  }

  /** Drops the samples of objects that no longer exist. */
  retain(keys: Set<string>): void {
    for (const key of this.last.keys()) if (!keys.has(key)) this.last.delete(key);
  }
}
