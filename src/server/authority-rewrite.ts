// Go gRPC clients before grpc-go 1.56 (crictl ≤ 1.27, kubelet ≤ 1.26) send the unix socket's path as
// the HTTP/2 `:authority`. Node's HTTP/2 (nghttp2) rejects a `/` there with PROTOCOL_ERROR, so those
// clients could not talk to a Node gRPC server. crid reads the client's bytes first and re-encodes
// every request header block, replacing an invalid authority with `localhost` (what newer clients send).
// Only client→server HEADERS/CONTINUATION frames are touched; everything else passes through.
// Since it reads every request's metadata anyway, it also keeps an oversized one from Node's HTTP/2,
// which answers a field over 64 KiB with COMPRESSION_ERROR: a connection error that fails every call
// on the connection (kubelet multiplexes all of its calls on one). Such a block is replaced by its
// pseudo-headers and a marker, and the call fails alone (see instrument.ts).
// Blocks pass through as the client encoded them (each is still decoded, to follow the client's
// dynamic table and count its size) until one has to change; from then on every block of the
// connection is re-encoded without indexing, so Node's table stays as it was and is never referred
// to again. The other way round, passing blocks through after re-encoded ones, would hand Node
// references into entries it never saw added. Re-encoding every block cost a quarter of crid's CPU
// in a relist.
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
/** Most request metadata a call may carry, counted as HTTP/2 does (name + value + 32 per field). */
export const MAX_METADATA_BYTES = 64 * 1024;
/** Set, in place of the metadata, on a request whose metadata was over the limit (its size). */
export const OVERSIZED_METADATA_HEADER = 'crid-oversized-metadata';
/** A header block whose encoding grows past this is an attack on memory: the connection ends. */
const MAX_BLOCK_BYTES = 4 * 1024 * 1024;
/** What a call needs to be routed and answered by the gRPC server. */
const KEPT_WHEN_OVERSIZED = new Set([':method', ':scheme', ':path', ':authority', 'content-type', 'te']);
/** RFC 3986 authority characters (host, port, IP literals); a path's `/` is not among them. */
const VALID_AUTHORITY = /^[A-Za-z0-9\-._~!$&'()*+,;=:[\]%@]*$/;

interface HeaderField {
  name: string;
  value: string;
}

interface PendingBlock {
  streamId: number;
  endStream: boolean;
  /** As received, for passing the block through. */
  frames: Buffer[];
  fragments: Buffer[];
  bytes: number;
}

export class AuthorityRewriter extends Transform {
  private buffer: Buffer = Buffer.alloc(0);
  private prefaceDone = false;
  private block: PendingBlock | undefined;
  private reencoding = false;
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
      this.block = { streamId, endStream: (flags & FLAG_END_STREAM) !== 0, frames: [], fragments: [], bytes: 0 };
      this.addFragment(this.block, frame, headerFragment(frame.subarray(FRAME_HEADER), flags));
    } else if (type === TYPE_CONTINUATION && this.block) {
      this.addFragment(this.block, frame, frame.subarray(FRAME_HEADER));
    } else {
      this.push(frame);
      return;
    }
    if (flags & FLAG_END_HEADERS) this.flushBlock(this.block!);
  }

  private addFragment(block: PendingBlock, frame: Buffer, fragment: Buffer): void {
    block.bytes += fragment.length;
    if (block.bytes > MAX_BLOCK_BYTES)
      throw new Error(`header block of stream ${block.streamId} exceeds ${MAX_BLOCK_BYTES} bytes`);
    block.frames.push(frame);
    block.fragments.push(fragment);
  }

  private flushBlock(block: PendingBlock): void {
    this.block = undefined;
    const decoded = this.decode(block.fragments.length === 1 ? block.fragments[0]! : Buffer.concat(block.fragments));
    this.reencoding ||= needsRewrite(decoded);
    if (!this.reencoding) {
      for (const frame of block.frames) this.push(frame);
      return;
    }
    const fields = withinLimit(decoded.map(fixAuthority));
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

function needsRewrite(fields: HeaderField[]): boolean {
  let size = 0;
  for (const f of fields) {
    if (f.name === OVERSIZED_METADATA_HEADER || (f.name === ':authority' && !VALID_AUTHORITY.test(f.value)))
      return true;
    size += fieldSize(f);
  }
  return size > MAX_METADATA_BYTES;
}

function fixAuthority(field: HeaderField): HeaderField {
  return field.name === ':authority' && !VALID_AUTHORITY.test(field.value)
    ? { name: field.name, value: 'localhost' }
    : field;
}

/** The fields, or those a call needs plus the marker when they are over the limit; a client's own marker is dropped. */
function withinLimit(fields: HeaderField[]): HeaderField[] {
  const own = fields.filter((f) => f.name !== OVERSIZED_METADATA_HEADER);
  const size = own.reduce((sum, f) => sum + fieldSize(f), 0);
  if (size <= MAX_METADATA_BYTES) return own;
  const kept = own.filter((f) => KEPT_WHEN_OVERSIZED.has(f.name) && fieldSize(f) <= MAX_METADATA_BYTES);
  return [...kept, { name: OVERSIZED_METADATA_HEADER, value: String(size) }];
}

function fieldSize(field: HeaderField): number {
  return Buffer.byteLength(field.name) + Buffer.byteLength(field.value) + 32;
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
