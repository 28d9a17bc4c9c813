import { describe, expect, it } from 'vitest';
import { eachLimited } from './each-limited.ts';

describe('eachLimited', () => {
  it('runs every item with no more than the limit in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const done: number[] = [];
    await eachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      done.push(n);
    });
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(3);
  });

  it('runs the rest when one item fails, then rejects with its error', async () => {
    const done: number[] = [];
    const run = eachLimited([1, 2, 3, 4], 2, async (n) => {
      if (n === 2) throw new Error('item 2 failed');
      done.push(n);
    });
    await expect(run).rejects.toThrow('item 2 failed');
    expect(done).toEqual([1, 3, 4]);
  });

  it('with stopAfterFailure starts no item after one failed, and lets the started ones finish', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const run = eachLimited(
      [1, 2, 3, 4, 5],
      2,
      async (n) => {
        started.push(n);
        if (n === 2) throw new Error('item 2 failed');
        await new Promise((r) => setImmediate(r));
        finished.push(n);
      },
      { stopAfterFailure: true },
    );
    await expect(run).rejects.toThrow('item 2 failed');
    expect(started).toEqual([1, 2]);
    expect(finished).toEqual([1]);
  });

  it('resolves at once for no items', async () => {
    await expect(eachLimited([], 4, async () => {})).resolves.toBeUndefined();
  });
});
