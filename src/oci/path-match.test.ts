import { describe, expect, it } from 'vitest';
import { isValidPattern, pathMatch } from './path-match.ts';

// Cases from Go's path/match_test.go semantics.
const cases: Array<[string, string, boolean]> = [
  ['abc', 'abc', true],
  ['*', 'abc', true],
  ['*c', 'abc', true],
  ['a*', 'a', true],
  ['a*', 'abc', true],
  ['a*', 'ab/c', false],
  ['a*/b', 'abc/b', true],
  ['a*/b', 'a/c/b', false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true],
  ['a*b?c*x', 'abxbbxdbxebxczzy', false],
  ['ab[c]', 'abc', true],
  ['ab[b-d]', 'abc', true],
  ['ab[e-g]', 'abc', false],
  ['ab[^c]', 'abc', false],
  ['ab[^b-d]', 'abc', false],
  ['ab[^e-g]', 'abc', true],
  ['a\\*b', 'a*b', true],
  ['a\\*b', 'ab', false],
  ['a?b', 'a☺b', true],
  ['a[^a]b', 'a☺b', true],
  ['a???b', 'a☺b', false],
  ['[a-ζ]*', 'α', true],
  ['*[a-ζ]', 'A', false],
  ['a?b', 'a/b', false],
  ['a*b', 'a/b', false],
  ['[\\]a]', ']', true],
  ['[\\-]', '-', true],
  ['[x\\-]', 'z', false],
  ['[\\-x]', 'x', true],
  ['*x', 'xxx', true],
  ['io.katacontainers.*', 'io.katacontainers.config.hypervisor.default_vcpus', true],
  ['io.katacontainers.*', 'io.katacontainers/x', false],
  ['example.com/*', 'example.com/key', true],
  ['', '', true],
  ['', 'a', false],
];

describe('pathMatch (Go path.Match)', () => {
  it.each(cases)('%s vs %s → %s', (pattern, name, want) => {
    expect(pathMatch(pattern, name)).toBe(want);
  });

  it('treats malformed patterns as matching nothing', () => {
    for (const bad of ['[]a]', '[-]', '[x-]', '[a-b-c]', '[', '[^', '[^bc', 'a[', '\\', 'a\\']) {
      expect(pathMatch(bad, 'a')).toBe(false);
      expect(isValidPattern(bad)).toBe(false);
    }
    expect(isValidPattern('io.kubernetes.*')).toBe(true);
  });
});
