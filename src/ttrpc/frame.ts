// ttrpc framing: a 10-byte header (data length u32 BE, stream id u32 BE, type u8, flags u8)
// followed by the data. Pure: no sockets, shared by the client and the server.
import { resourceExhausted } from '../errors.ts';

export const HEADER_SIZE = 10;
export const MAX_DATA_SIZE = 4 << 20;

export const MESSAGE_TYPE_REQUEST = 0x01;
export const MESSAGE_TYPE_RESPONSE = 0x02;

export interface Frame {
  streamId: number;
  type: number;
  flags: number;
  data: Buffer;
}

/** A frame whose announced length exceeded the limit; its data was skipped. */
export interface OversizeFrame {
  streamId: number;
  type: number;
  oversize: number;
}

export type DecodedFrame = Frame | OversizeFrame;

export function isOversize(frame: DecodedFrame): frame is OversizeFrame {
  return 'oversize' in frame;
}

export function oversizeMessage(length: number): string {
  return `message length ${length} exceed maximum message size of ${MAX_DATA_SIZE}`;
}

export function encodeFrame(streamId: number, type: number, data: Uint8Array, flags = 0): Buffer {
  if (data.length > MAX_DATA_SIZE) throw resourceExhausted(oversizeMessage(data.length));
  const frame = Buffer.allocUnsafe(HEADER_SIZE + data.length);
  frame.writeUInt32BE(data.length, 0);
  frame.writeUInt32BE(streamId, 4);
  frame.writeUInt8(type, 8);
  frame.writeUInt8(flags, 9);
  frame.set(data, HEADER_SIZE);
  return frame;
}

/** Reassembles frames from arbitrarily split or coalesced chunks of a byte stream. */
export class FrameDecoder {
  private buffered: Buffer = Buffer.alloc(0);
  /** Bytes of an oversize frame still to be dropped. */
  private skipping = 0;

  push(chunk: Buffer): DecodedFrame[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const frames: DecodedFrame[] = [];
    for (;;) {
      if (this.skipping > 0) {
        const dropped = Math.min(this.skipping, this.buffered.length);
        this.skipping -= dropped;
        this.buffered = this.buffered.subarray(dropped);
        if (this.skipping > 0) return frames;
      }
      if (this.buffered.length < HEADER_SIZE) return frames;
      const length = this.buffered.readUInt32BE(0);
      const streamId = this.buffered.readUInt32BE(4);
      const type = this.buffered.readUInt8(8);
      const flags = this.buffered.readUInt8(9);
      if (length > MAX_DATA_SIZE) {
        this.buffered = this.buffered.subarray(HEADER_SIZE);
        this.skipping = length;
        frames.push({ streamId, type, oversize: length });
        continue;
      }
      if (this.buffered.length < HEADER_SIZE + length) return frames;
      const data = Buffer.from(this.buffered.subarray(HEADER_SIZE, HEADER_SIZE + length));
      this.buffered = this.buffered.subarray(HEADER_SIZE + length);
      frames.push({ streamId, type, flags, data });
    }
  }
}
