import { describe, expect, it } from 'vitest';
import { CappedBuffer } from './exec-sync.ts';

describe('CappedBuffer', () => {
  it('keeps the first bytes up to the limit', () => {
    const b = new CappedBuffer(5);
    b.push(Buffer.from('abc'));
    b.push(Buffer.from('defg'));
    b.push(Buffer.from('h'));
    expect(b.bytes().toString()).toBe('abcde');
  });
});
