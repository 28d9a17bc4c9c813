import { describe, expect, it } from 'vitest';
import { isKind } from '../errors.ts';
import { RequestCache } from './request-cache.ts';

describe('streaming request cache', () => {
  it('hands out unguessable url-safe tokens that work once', () => {
    const cache = new RequestCache<string>({ ttlMs: 1000, maxInFlight: 10 });
    const token = cache.insert('req');
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(cache.insert('req')).not.toBe(token);
    expect(cache.peek(token)).toBe('req');
    expect(cache.consume(token)).toBe('req');
    expect(cache.consume(token)).toBeUndefined();
  });

  it('expires tokens after the TTL', () => {
    let now = 0;
    const cache = new RequestCache<string>({ ttlMs: 1000, maxInFlight: 10, now: () => now });
    const token = cache.insert('req');
    now = 1000;
    expect(cache.peek(token)).toBeUndefined();
    expect(cache.consume(token)).toBeUndefined();
  });

  it('refuses more than maxInFlight outstanding tokens until some expire', () => {
    let now = 0;
    const cache = new RequestCache<number>({ ttlMs: 1000, maxInFlight: 2, now: () => now });
    cache.insert(1);
    cache.insert(2);
    let error: unknown;
    try {
      cache.insert(3);
    } catch (err) {
      error = err;
    }
    expect(isKind(error, 'ResourceExhausted')).toBe(true);
    now = 1000;
    expect(() => cache.insert(3)).not.toThrow();
    expect(cache.size).toBe(1);
  });
});
