import { describe, expect, it } from 'vitest';
import { CappedBuffer } from './container-fifo-pipe.ts';
import { exactJsonValue } from './exact-json.ts';

describe('CappedBuffer', () => {
  it('keeps the first bytes up to the limit', () => {
    const b = new CappedBuffer(5);
    b.push(Buffer.from('abc'));
    b.push(Buffer.from('defg'));
    b.push(Buffer.from('h'));
    expect(b.bytes().toString()).toBe('abcde');
  });
});

describe('exactJsonValue', () => {
  it('writes bigints as exact JSON integers, deep', () => {
    const value = { memory: { limit: 9007199254740993n }, list: [1n, 'x'], flag: true };
    expect(JSON.stringify(exactJsonValue(value))).toBe('{"memory":{"limit":9007199254740993},"list":[1,"x"],"flag":true}');
  });
});
