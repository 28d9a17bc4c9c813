import { describe, expect, it } from 'vitest';
import { formatReference, looksLikeImageId, parseNormalizedReference, parseReference } from './reference.ts';

const hex = 'a'.repeat(64);

describe('parseNormalizedReference', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['user/app:v1', 'docker.io/user/app:v1'],
    ['registry.k8s.io/pause:3.9', 'registry.k8s.io/pause:3.9'],
    ['localhost/app', 'localhost/app:latest'],
    ['127.0.0.1:5000/a/b/c:t', '127.0.0.1:5000/a/b/c:t'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    [`busybox@sha256:${hex}`, `docker.io/library/busybox@sha256:${hex}`],
    [`busybox:1.36@sha256:${hex}`, `docker.io/library/busybox:1.36@sha256:${hex}`],
  ])('%s → %s', (input, expected) => {
    expect(formatReference(parseNormalizedReference(input))).toBe(expected);
  });

  it.each([
    ['', 'empty'],
    ['Busybox', 'lowercase'],
    ['busybox:', 'invalid tag'],
    ['busybox@sha256:abc', 'invalid digest'],
    [`busybox@md5:${'a'.repeat(32)}`, 'unsupported digest'],
    [hex, 'image id'],
    ['a//b', 'invalid repository path'],
    ['bad_host:5000/x', 'invalid registry host'],
  ])('rejects %j (%s) naming the reference', (input, why) => {
    expect(() => parseReference(input)).toThrow(why);
    try {
      parseReference(input);
    } catch (err) {
      expect((err as Error).message).toContain(JSON.stringify(input));
      expect((err as { kind: string }).kind).toBe('InvalidArgument');
    }
  });

  it('keeps the domain and path apart', () => {
    expect(parseReference('127.0.0.1:5000/x/y:t')).toEqual({ domain: '127.0.0.1:5000', path: 'x/y', tag: 't' });
  });

  it('recognizes image ids', () => {
    expect(looksLikeImageId(hex)).toBe(true);
    expect(looksLikeImageId(`sha256:${hex}`)).toBe(true);
    expect(looksLikeImageId('busybox')).toBe(false);
  });
});
