import { describe, expect, it } from 'vitest';
import hpack from 'hpack.js';
import { AuthorityRewriter, headerFrames, MAX_METADATA_BYTES, OVERSIZED_METADATA_HEADER } from './authority-rewrite.ts';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

function encode(
  fields: Array<[string, string]>,
  compressor = hpack.compressor.create({ table: { maxSize: 4096 } }),
): Buffer {
  compressor.write(fields.map(([name, value]) => ({ name, value, huffman: true })));
  return compressor.read()!;
}

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/** Feeds the bytes in pieces of `step` and returns what comes out, parsed back into header lists. */
function run(bytes: Buffer, step: number): { raw: Buffer; headers: Array<Array<[string, string]>> } {
  const rewriter = new AuthorityRewriter();
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += step) out.push(rewriter.feed(bytes.subarray(i, i + step)));
  const raw = Buffer.concat(out);
  const decoder = hpack.decompressor.create({ table: { maxSize: 4096 } });
  const headers: Array<Array<[string, string]>> = [];
  let offset = PREFACE.length;
  let block: Buffer[] = [];
  while (offset < raw.length) {
    const length = raw.readUIntBE(offset, 3);
    const type = raw[offset + 3]!;
    const flags = raw[offset + 4]!;
    if (type === 1 || type === 9) block.push(raw.subarray(offset + 9, offset + 9 + length));
    if ((type === 1 || type === 9) && flags & 0x4) {
      decoder.write(Buffer.concat(block));
      decoder.execute();
      const fields: Array<[string, string]> = [];
      for (let f = decoder.read(); f; f = decoder.read()) fields.push([f.name, f.value]);
      headers.push(fields);
      block = [];
    }
    offset += 9 + length;
  }
  return { raw, headers };
}

describe('AuthorityRewriter', () => {
  const compressor = hpack.compressor.create({ table: { maxSize: 4096 } });
  const first = encode(
    [
      [':method', 'POST'],
      [':path', '/runtime.v1.RuntimeService/Version'],
      [':authority', '/run/crid/crid.sock'],
      ['te', 'trailers'],
    ],
    compressor,
  );
  // The second block refers to the first through the client's dynamic table.
  const second = encode(
    [
      [':method', 'POST'],
      [':path', '/runtime.v1.RuntimeService/Status'],
      [':authority', '/run/crid/crid.sock'],
    ],
    compressor,
  );
  const padded = Buffer.concat([Buffer.from([3]), first, Buffer.alloc(3)]);
  const input = Buffer.concat([
    PREFACE,
    frame(0x4, 0, 0, Buffer.alloc(0)),
    frame(0x1, 0x8 | 0x4, 1, padded),
    frame(0x0, 0x1, 1, Buffer.from([0, 0, 0, 0, 0])),
    frame(0x1, 0, 3, second.subarray(0, 5)),
    frame(0x9, 0x4, 3, second.subarray(5)),
  ]);

  it.each([1, 2, 7, 64, input.length])(
    'rewrites path authorities whatever the chunking (%i bytes at a time)',
    (step) => {
      const { raw, headers } = run(input, step);
      expect(raw.subarray(0, PREFACE.length)).toEqual(PREFACE);
      expect(headers).toEqual([
        [
          [':method', 'POST'],
          [':path', '/runtime.v1.RuntimeService/Version'],
          [':authority', 'localhost'],
          ['te', 'trailers'],
        ],
        [
          [':method', 'POST'],
          [':path', '/runtime.v1.RuntimeService/Status'],
          [':authority', 'localhost'],
        ],
      ]);
      // the DATA frame passes through untouched
      expect(raw.includes(frame(0x0, 0x1, 1, Buffer.from([0, 0, 0, 0, 0])))).toBe(true);
    },
  );

  it("passes a clean connection's blocks through as sent, and re-encodes every block after one that had to change", () => {
    const client = hpack.compressor.create({ table: { maxSize: 4096 } });
    const call = (path: string, authority: string) =>
      encode(
        [
          [':method', 'POST'],
          [':path', path],
          [':authority', authority],
          ['user-agent', 'kubelet'],
        ],
        client,
      );
    // Each block after the first refers to entries the blocks before added to the client's table.
    const frames = [
      call('/a', 'localhost'),
      call('/b', 'localhost'),
      call('/c', '/run/crid/crid.sock'),
      call('/d', 'localhost'),
    ].map((block, i) => frame(0x1, 0x5, 2 * i + 1, block));
    const { raw, headers } = run(Buffer.concat([PREFACE, ...frames]), 64);
    expect(raw.subarray(0, PREFACE.length + frames[0]!.length + frames[1]!.length)).toEqual(
      Buffer.concat([PREFACE, frames[0]!, frames[1]!]),
    );
    expect(raw.includes(frames[3]!)).toBe(false);
    expect(headers.map((h) => h.map(([name, value]) => `${name}=${value}`).join(' '))).toEqual([
      ':method=POST :path=/a :authority=localhost user-agent=kubelet',
      ':method=POST :path=/b :authority=localhost user-agent=kubelet',
      ':method=POST :path=/c :authority=localhost user-agent=kubelet',
      ':method=POST :path=/d :authority=localhost user-agent=kubelet',
    ]);
  });

  it('keeps a valid authority', () => {
    const block = encode([
      [':authority', 'localhost:1234'],
      [':path', '/x'],
    ]);
    const { headers } = run(Buffer.concat([PREFACE, frame(0x1, 0x4, 1, block)]), 5);
    expect(headers).toEqual([
      [
        [':authority', 'localhost:1234'],
        [':path', '/x'],
      ],
    ]);
  });

  it('splits a large block into HEADERS and CONTINUATION frames', () => {
    const frames = headerFrames(5, true, Buffer.alloc(40_000));
    expect(frames.map((f) => [f.readUIntBE(0, 3), f[3], f[4]])).toEqual([
      [16_384, 0x1, 0x1],
      [16_384, 0x9, 0],
      [40_000 - 32_768, 0x9, 0x4],
    ]);
  });

  it('replaces oversized metadata by the marker, and later blocks still decode through the client table', () => {
    const client = hpack.compressor.create({ table: { maxSize: 4096 } });
    const call = (path: string, extra: Array<[string, string]> = []) =>
      encode(
        [
          [':method', 'POST'],
          [':path', path],
          [':authority', 'localhost'],
          ['content-type', 'application/grpc'],
          ['user-agent', 'kubelet'],
          ...extra,
        ],
        client,
      );
    const blocks = [
      call('/runtime.v1.RuntimeService/Version'),
      call('/runtime.v1.RuntimeService/ListPodSandbox', [
        ['x-big', 'x'.repeat(1 << 20)],
        [OVERSIZED_METADATA_HEADER, '1'],
      ]),
      call('/runtime.v1.RuntimeService/Status', [[OVERSIZED_METADATA_HEADER, '1']]),
    ];
    const input = Buffer.concat([PREFACE, ...blocks.flatMap((block, i) => headerFrames(2 * i + 1, true, block))]);
    const { headers } = run(input, 4096);
    const common: Array<[string, string]> = [
      [':method', 'POST'],
      [':authority', 'localhost'],
      ['content-type', 'application/grpc'],
    ];
    expect(headers[0]).toEqual([
      common[0],
      [':path', '/runtime.v1.RuntimeService/Version'],
      ...common.slice(1),
      ['user-agent', 'kubelet'],
    ]);
    expect(headers[1]).toEqual([
      common[0],
      [':path', '/runtime.v1.RuntimeService/ListPodSandbox'],
      ...common.slice(1),
      [OVERSIZED_METADATA_HEADER, expect.stringMatching(/^\d+$/)],
    ]);
    expect(Number(headers[1]!.at(-1)![1])).toBeGreaterThan(MAX_METADATA_BYTES);
    expect(headers[2]).toEqual([
      common[0],
      [':path', '/runtime.v1.RuntimeService/Status'],
      ...common.slice(1),
      ['user-agent', 'kubelet'],
    ]);
  });

  it('fails on a header block that grows past 4 MiB', () => {
    const rewriter = new AuthorityRewriter();
    rewriter.feed(Buffer.concat([PREFACE, frame(0x1, 0, 1, Buffer.alloc(16_384))]));
    expect(() => {
      for (let i = 0; i < 300; i++) rewriter.feed(frame(0x9, 0, 1, Buffer.alloc(16_384)));
    }).toThrow('header block of stream 1 exceeds 4194304 bytes');
  });

  it('returns a chunk of whole frames that pass through as the very bytes it was given', () => {
    const rewriter = new AuthorityRewriter();
    const chunk = Buffer.concat([
      PREFACE,
      frame(0x1, 0x4, 1, encode([[':authority', 'localhost']])),
      frame(0x0, 0x1, 1, Buffer.from([0, 0, 0, 0, 0])),
    ]);
    expect(rewriter.feed(chunk.subarray(0, 10))).toHaveLength(0);
    expect(rewriter.feed(chunk.subarray(10))).toEqual(chunk);
    const data = frame(0x0, 0x1, 3, Buffer.from([0, 0, 0, 0, 0]));
    expect(rewriter.feed(data)).toBe(data);
  });

  it("follows the client's table size updates and evictions", () => {
    // A client that shrinks its table evicts what the blocks before added; later blocks index anew.
    const client = hpack.compressor.create({ table: { maxSize: 4096 } });
    const blocks: Buffer[] = [];
    for (let i = 0; i < 200; i++)
      blocks.push(
        encode(
          [
            [':authority', i % 2 ? 'localhost' : '/run/crid/crid.sock'],
            ['grpc-timeout', `${i}m`],
          ],
          client,
        ),
      );
    const resize = Buffer.from([0x20]); // dynamic table size update to 0
    const last = encode([['grpc-timeout', '7m']], hpack.compressor.create({ table: { maxSize: 4096 } }));
    const input = Buffer.concat([
      PREFACE,
      ...blocks.map((block, i) => frame(0x1, 0x5, 2 * i + 1, block)),
      frame(0x1, 0x5, 401, Buffer.concat([resize, last])),
    ]);
    const { headers } = run(input, 1000);
    expect(headers).toHaveLength(201);
    expect(headers[199]).toEqual([
      [':authority', 'localhost'],
      ['grpc-timeout', '199m'],
    ]);
    expect(headers[200]).toEqual([['grpc-timeout', '7m']]);
  });
});
