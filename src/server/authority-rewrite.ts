// Go gRPC clients before grpc-go 1.56 (crictl ≤ 1.27, kubelet ≤ 1.26) send the unix socket's path as
// the HTTP/2 `:authority`. Node's HTTP/2 (nghttp2) rejects a `/` there with PROTOCOL_ERROR, so those
// clients could not talk to a Node gRPC server. crid reads the client's bytes first and re-encodes
// every request header block, replacing an invalid authority with `localhost` (what newer clients send).
// Only client→server HEADERS/CONTINUATION frames are touched; everything else passes through.
import { Transform, type TransformCallback } from 'node:stream';
import hpack from 'hpack.js';

const PREFACE_LENGTH = 24;
const FRAME_HEADER = 9;
const TYPE_HEADERS = 0x1;
const TYPE_CONTINUATION = 0x9;
const FLAG_END_STREAM = 0x1;
const FLAG_END_HEADERS = 0x4;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;
/** The peer's SETTINGS_MAX_FRAME_SIZE default; grpc-js does not raise it. */
const MAX_FRAME_PAYLOAD = 16_384;
/** SETTINGS_HEADER_TABLE_SIZE default, which grpc-js keeps: the client's encoder stays within it. */
const TABLE_SIZE = 4096;
/** RFC 3986 authority characters (host, port, IP literals); a path's `/` is not among them. */
const VALID_AUTHORITY = /^[A-Za-z0-9\-._~!$&'()*+,;=:[\]%@]*$/;

interface HeaderField {
  name: string;
  value: string;
}

interface PendingBlock {
  streamId: number;
  endStream: boolean;
  fragments: Buffer[];
}

export class AuthorityRewriter extends Transform {
  private buffer: Buffer = Buffer.alloc(0);
  private prefaceDone = false;
  private block: PendingBlock | undefined;
  // Every block is decoded, so the decoder follows the client's dynamic table; every block is
  // re-encoded without indexing, so the server's table stays empty and never disagrees.
  private readonly decoder = hpack.decompressor.create({ table: { size: TABLE_SIZE } });
  private readonly encoder = hpack.compressor.create({ table: { size: TABLE_SIZE } });

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    try {
      this.consume();
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  private consume(): void {
    if (!this.prefaceDone) {
      if (this.buffer.length < PREFACE_LENGTH) return;
      this.push(this.buffer.subarray(0, PREFACE_LENGTH));
      this.buffer = this.buffer.subarray(PREFACE_LENGTH);
      this.prefaceDone = true;
    }
    while (this.buffer.length >= FRAME_HEADER) {
      const length = this.buffer.readUIntBE(0, 3);
      if (this.buffer.length < FRAME_HEADER + length) return;
      const frame = this.buffer.subarray(0, FRAME_HEADER + length);
      this.buffer = this.buffer.subarray(FRAME_HEADER + length);
      this.frame(frame);
    }
  }

  private frame(frame: Buffer): void {
    const type = frame[3]!;
    const flags = frame[4]!;
    const streamId = frame.readUInt32BE(5) & 0x7fffffff;
    if (type === TYPE_HEADERS) {
      this.block = { streamId, endStream: (flags & FLAG_END_STREAM) !== 0, fragments: [headerFragment(frame.subarray(FRAME_HEADER), flags)] };
    } else if (type === TYPE_CONTINUATION && this.block) {
      this.block.fragments.push(frame.subarray(FRAME_HEADER));
    } else {
      this.push(frame);
      return;
    }
    if (flags & FLAG_END_HEADERS) this.flushBlock(this.block!);
  }

  private flushBlock(block: PendingBlock): void {
    this.block = undefined;
    const fields = this.decode(Buffer.concat(block.fragments)).map(fixAuthority);
    this.encoder.write(fields.map((f) => ({ ...f, neverIndex: true, huffman: false })));
    const encoded: Buffer = this.encoder.read() ?? Buffer.alloc(0);
    for (const frame of headerFrames(block.streamId, block.endStream, encoded)) this.push(frame);
  }

  private decode(block: Buffer): HeaderField[] {
    this.decoder.write(block);
    this.decoder.execute();
    const fields: HeaderField[] = [];
    for (let field = this.decoder.read(); field !== null; field = this.decoder.read()) {
      fields.push({ name: field.name, value: field.value });
    }
    return fields;
  }
}

function fixAuthority(field: HeaderField): HeaderField {
  return field.name === ':authority' && !VALID_AUTHORITY.test(field.value) ? { name: field.name, value: 'localhost' } : field;
}

/** The header block fragment of a HEADERS payload, without padding and priority fields. */
function headerFragment(payload: Buffer, flags: number): Buffer {
  let start = 0;
  let end = payload.length;
  if (flags & FLAG_PADDED) {
    end -= payload[0]!;
    start = 1;
  }
  if (flags & FLAG_PRIORITY) start += 5;
  return payload.subarray(start, end);
}

function frameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  const header = Buffer.alloc(FRAME_HEADER);
  header.writeUIntBE(length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return header;
}

/** A HEADERS frame, followed by CONTINUATION frames when the block exceeds the frame size. */
export function headerFrames(streamId: number, endStream: boolean, block: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  for (let offset = 0; offset === 0 || offset < block.length; offset += MAX_FRAME_PAYLOAD) {
    const piece = block.subarray(offset, offset + MAX_FRAME_PAYLOAD);
    const last = offset + MAX_FRAME_PAYLOAD >= block.length;
    const type = offset === 0 ? TYPE_HEADERS : TYPE_CONTINUATION;
    const flags = (last ? FLAG_END_HEADERS : 0) | (offset === 0 && endStream ? FLAG_END_STREAM : 0);
    frames.push(Buffer.concat([frameHeader(piece.length, type, flags, streamId), piece]));
  }
  return frames;
}
