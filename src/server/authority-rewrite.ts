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
const NOTHING = Buffer.alloc(0);

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

/**
 * The client's bytes in, the server's bytes out: `feed` takes what the client sent and returns what
 * to pass on (a chunk of whole frames that all pass through is returned as it came). It throws when
 * the client sends what cannot be decoded; the connection then ends.
 */
export class AuthorityRewriter {
  /** The start of a frame not yet whole. */
  private partial: Buffer = NOTHING;
  private prefaceDone = false;
  private block: PendingBlock | undefined;
  private reencoding = false;
  // Every block is decoded, so the decoder follows the client's dynamic table; every block is
  // re-encoded without indexing, so the server's table stays empty and never disagrees.
  private readonly decoder = new BlockDecoder(TABLE_SIZE);
  private encoder: hpack.Compressor | undefined;

  feed(chunk: Buffer): Buffer {
    let input = this.partial.length ? Buffer.concat([this.partial, chunk]) : chunk;
    const out: Buffer[] = [];
    if (!this.prefaceDone) {
      if (input.length < PREFACE_LENGTH) {
        this.partial = input;
        return NOTHING;
      }
      this.prefaceDone = true;
      out.push(input.subarray(0, PREFACE_LENGTH));
      input = input.subarray(PREFACE_LENGTH);
    }
    // Frames pass through as runs of the input; a header block's frames wait for its last one.
    let run = 0;
    let offset = 0;
    while (input.length - offset >= FRAME_HEADER) {
      const end = offset + FRAME_HEADER + input.readUIntBE(offset, 3);
      if (input.length < end) break;
      const type = input[offset + 3]!;
      if (type === TYPE_HEADERS || (type === TYPE_CONTINUATION && this.block)) {
        if (run < offset) out.push(input.subarray(run, offset));
        out.push(...this.headerFrame(input.subarray(offset, end)));
        run = end;
      }
      offset = end;
    }
    this.partial = input.subarray(offset);
    if (out.length === 0 && run === 0 && offset === input.length) return input;
    if (run < offset) out.push(input.subarray(run, offset));
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  /** Takes one HEADERS or CONTINUATION frame; returns the frames to pass on once its block is whole. */
  private headerFrame(frame: Buffer): Buffer[] {
    const flags = frame[4]!;
    if (frame[3] === TYPE_HEADERS) {
      const streamId = frame.readUInt32BE(5) & 0x7fffffff;
      this.block = { streamId, endStream: (flags & FLAG_END_STREAM) !== 0, frames: [], fragments: [], bytes: 0 };
      this.addFragment(this.block, frame, headerFragment(frame.subarray(FRAME_HEADER), flags));
    } else {
      this.addFragment(this.block!, frame, frame.subarray(FRAME_HEADER));
    }
    if (!(flags & FLAG_END_HEADERS)) return [];
    const block = this.block!;
    this.block = undefined;
    return this.finishBlock(block);
  }

  private addFragment(block: PendingBlock, frame: Buffer, fragment: Buffer): void {
    block.bytes += fragment.length;
    if (block.bytes > MAX_BLOCK_BYTES)
      throw new Error(`header block of stream ${block.streamId} exceeds ${MAX_BLOCK_BYTES} bytes`);
    block.frames.push(frame);
    block.fragments.push(fragment);
  }

  private finishBlock(block: PendingBlock): Buffer[] {
    const decoded = this.decoder.decode(
      block.fragments.length === 1 ? block.fragments[0]! : Buffer.concat(block.fragments),
    );
    this.reencoding ||= needsRewrite(decoded);
    if (!this.reencoding) return block.frames;
    const fields = withinLimit(decoded.map(fixAuthority));
    this.encoder ??= hpack.compressor.create({ table: { maxSize: TABLE_SIZE } });
    this.encoder.write(fields.map((f) => ({ ...f, neverIndex: true, huffman: false })));
    const encoded: Buffer = this.encoder.read() ?? NOTHING;
    return headerFrames(block.streamId, block.endStream, encoded);
  }
}

/**
 * HPACK decoding (RFC 7541, section 6) on hpack.js's bit reader and table: its decompressor stream
 * does the same through an object-mode stream, which cost more than the decoding in every call.
 */
class BlockDecoder {
  private readonly reader = hpack.decoder.create();
  private readonly table: hpack.Table;

  constructor(size: number) {
    this.table = hpack.table.create({ maxSize: size });
  }

  decode(block: Buffer): HeaderField[] {
    this.reader.push(block);
    const fields: HeaderField[] = [];
    while (!this.reader.isEmpty()) {
      if (this.reader.decodeBit()) {
        const { name, value } = this.table.lookup(this.reader.decodeInt());
        fields.push({ name, value });
        continue;
      }
      const incremental = this.reader.decodeBit();
      if (!incremental && this.reader.decodeBit()) {
        this.table.updateSize(this.reader.decodeInt());
        continue;
      }
      // Without incremental indexing the next bit says "never indexed", which changes nothing here.
      if (!incremental) this.reader.decodeBit();
      fields.push(this.literal(incremental === 1));
    }
    return fields;
  }

  private literal(incremental: boolean): HeaderField {
    const index = this.reader.decodeInt();
    let name: string;
    let nameSize: number;
    if (index === 0) {
      const octets = this.reader.decodeStr();
      nameSize = octets.length;
      name = Buffer.from(octets).toString('latin1');
    } else {
      ({ name, nameSize } = this.table.lookup(index));
    }
    const octets = this.reader.decodeStr();
    const value = Buffer.from(octets).toString('latin1');
    if (incremental) this.table.add(name, value, nameSize, octets.length);
    return { name, value };
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
