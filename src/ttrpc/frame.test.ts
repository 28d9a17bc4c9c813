import { describe, expect, it } from 'vitest';
import { FrameDecoder, MAX_DATA_SIZE, encodeFrame, isOversize, type Frame } from './frame.ts';

const frames = [
  encodeFrame(1, 1, Buffer.from('hello')),
  encodeFrame(3, 2, Buffer.alloc(0)),
  encodeFrame(5, 1, Buffer.from('a longer payload with some bytes in it')),
];
const stream = Buffer.concat(frames);

function asPlain(decoded: ReturnType<FrameDecoder['push']>): Array<[number, number, string]> {
  return decoded.map((f) => [f.streamId, f.type, (f as Frame).data.toString()]);
}
const expected = [
  [1, 1, 'hello'],
  [3, 2, ''],
  [5, 1, 'a longer payload with some bytes in it'],
];

describe('ttrpc frames', () => {
  it('writes the 10-byte header', () => {
    expect(encodeFrame(7, 2, Buffer.from([0xaa, 0xbb]), 1).toString('hex')).toBe('000000020000000702' + '01aabb');
  });

  it('decodes coalesced frames from one chunk', () => {
    expect(asPlain(new FrameDecoder().push(stream))).toEqual(expected);
  });

  it('decodes the stream split at every byte boundary', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const decoder = new FrameDecoder();
      const out = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))];
      expect(asPlain(out)).toEqual(expected);
    }
  });

  it('decodes the stream fed one byte at a time', () => {
    const decoder = new FrameDecoder();
    const out = [];
    for (const byte of stream) out.push(...decoder.push(Buffer.from([byte])));
    expect(asPlain(out)).toEqual(expected);
  });

  it('refuses to encode an oversize frame', () => {
    expect(() => encodeFrame(1, 1, Buffer.alloc(MAX_DATA_SIZE + 1))).toThrow(/exceed maximum message size/);
  });

  it('reports an oversize frame, skips its data and resumes after it', () => {
    const header = Buffer.alloc(10);
    header.writeUInt32BE(MAX_DATA_SIZE + 3, 0);
    header.writeUInt32BE(9, 4);
    header.writeUInt8(1, 8);
    const decoder = new FrameDecoder();
    const first = decoder.push(Buffer.concat([header, Buffer.alloc(1000)]));
    expect(first).toHaveLength(1);
    expect(isOversize(first[0]!) && first[0].oversize).toBe(MAX_DATA_SIZE + 3);
    const rest = Buffer.concat([Buffer.alloc(MAX_DATA_SIZE + 3 - 1000), frames[0]!]);
    expect(asPlain(decoder.push(rest))).toEqual([expected[0]]);
  });
});
