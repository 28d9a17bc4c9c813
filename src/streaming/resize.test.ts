import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ResizeDecoder, splitJsonObjects, toTerminalSize } from './resize.ts';

describe('resize stream decoding', () => {
  it('splits concatenated objects and keeps an unfinished tail', () => {
    expect(splitJsonObjects('{"Width":1,"Height":2}\n{"Width":3,"Height":4}{"Wid')).toEqual({
      objects: ['{"Width":1,"Height":2}', '{"Width":3,"Height":4}'],
      rest: '{"Wid',
    });
    expect(splitJsonObjects('{"a":"}{"}')).toEqual({ objects: ['{"a":"}{"}'], rest: '' });
  });

  it('rejects junk between objects and sizes that are not uint16', () => {
    expect(() => splitJsonObjects('x{}')).toThrow(/unexpected/);
    expect(() => toTerminalSize('{"Width":-1,"Height":2}')).toThrow(/invalid terminal size/);
    expect(() => toTerminalSize('{"Width":70000,"Height":2}')).toThrow(/invalid terminal size/);
    expect(toTerminalSize('{"Width":80,"Height":24}')).toEqual({ width: 80, height: 24 });
  });

  it('turns split chunks into sizes and stops at the first malformed object', async () => {
    const chunks = ['{"Width":80,', '"Height":24}\n', '{"Width":100,"Height":30}', 'garbage', '{"Width":1,"Height":1}'];
    const sizes = await Readable.from(chunks.map((c) => Buffer.from(c)))
      .pipe(new ResizeDecoder())
      .toArray();
    expect(sizes).toEqual([
      { width: 80, height: 24 },
      { width: 100, height: 30 },
    ]);
  });
});
