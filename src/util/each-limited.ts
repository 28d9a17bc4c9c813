// Runs async work over a list with at most `limit` items in flight, in list order; resolves once
// every started item's work has settled, and rejects with the first failure after that. By default a
// failure stops nothing else (recovery tries every object); with `stopAfterFailure` no item starts
// after one failed (a pull that cannot finish).
export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<unknown>,
  opts: { stopAfterFailure?: boolean } = {},
): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length && !(opts.stopAfterFailure && errors.length > 0)) {
      const item = items[next++]!;
      await work(item).catch((err: unknown) => void errors.push(err));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
}
