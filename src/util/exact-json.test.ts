import { describe, expect, it } from 'vitest';
import { exactJson } from './exact-json.ts';

describe('exactJson', () => {
  it('writes bigints as exact JSON integers, deep', () => {
    const value = { memory: { limit: 9007199254740993n }, list: [1, 'x'], flag: true };
    expect(exactJson(value)).toBe('{"memory":{"limit":9007199254740993},"list":[1,"x"],"flag":true}');
  });
});
