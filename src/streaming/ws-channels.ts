// Channels multiplexed on one WebSocket, as Kubernetes' wsstream does: every message starts
// with its channel number (a byte, or an ASCII digit with base64 payloads); with v5, a
// [255, n] message half-closes channel n from the client's side.
import { PassThrough, Writable, type Readable } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import type { Logger } from '../log.ts';
import type { ChannelProtocol } from './protocols.ts';

const CLOSE_SIGNAL = 255;
const NORMAL_CLOSURE = 1000;

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/** Decodes one client message into its channel and payload (undefined for a malformed one). */
export function decodeMessage(data: Buffer, base64: boolean): { channel: number; payload: Buffer } | undefined {
  if (data.length === 0) return undefined;
  if (!base64) return { channel: data[0]!, payload: data.subarray(1) };
  const channel = data[0]! - 0x30;
  return { channel, payload: Buffer.from(data.subarray(1).toString('latin1'), 'base64') };
}

/** Encodes a server message for `channel`. */
export function encodeMessage(channel: number, payload: Buffer, base64: boolean): Buffer | string {
  if (base64) return String.fromCharCode(0x30 + channel) + payload.toString('base64');
  return Buffer.concat([Buffer.of(channel), payload]);
}

export class ChannelSocket {
  readonly #ws: WebSocket;
  readonly #protocol: ChannelProtocol;
  readonly #readers = new Map<number, PassThrough>();
  readonly #gone = new AbortController();
  readonly #logger: Logger;

  /** `readable` lists the channels the client may write to; data for others is dropped. */
  constructor(ws: WebSocket, protocol: ChannelProtocol, readable: readonly number[], logger: Logger) {
    this.#ws = ws;
    this.#protocol = protocol;
    this.#logger = logger;
    for (const channel of readable) this.#readers.set(channel, this.#newReader());
    ws.on('message', (data) => this.#onMessage(toBuffer(data)));
    ws.on('error', (err) => logger.debug({ err }, 'websocket error'));
    ws.on('close', () => {
      this.#gone.abort();
      for (const reader of this.#readers.values()) reader.end();
    });
  }

  /** Aborted when the WebSocket has closed. */
  get gone(): AbortSignal {
    return this.#gone.signal;
  }

  reader(channel: number): Readable {
    const reader = this.#readers.get(channel);
    if (reader === undefined) throw new Error(`channel ${channel} is not readable`);
    return reader;
  }

  /** A stream whose writes become messages on `channel`; ending it sends nothing. */
  writer(channel: number): Writable {
    const writer = new Writable({
      write: (chunk: Buffer, _encoding, callback) => this.send(channel, chunk).then(() => callback(), callback),
    });
    // Output that comes after the session ended (a write after end) must not become an uncaught exception.
    writer.on('error', (err) => this.#logger.debug({ err, channel }, 'websocket channel write failed'));
    return writer;
  }

  /** Sends one message; resolves when it was handed to the socket (dropped once closed). */
  send(channel: number, payload: Buffer | string): Promise<void> {
    if (this.#ws.readyState !== this.#ws.OPEN) return Promise.resolve();
    const message = encodeMessage(channel, Buffer.from(payload), this.#protocol.base64);
    return new Promise((resolve) => {
      this.#ws.send(message, { binary: typeof message !== 'string' }, (err) => {
        if (err) this.#logger.debug({ err, channel }, 'websocket send failed');
        resolve();
      });
    });
  }

  close(): void {
    this.#ws.close(NORMAL_CLOSURE);
  }

  #newReader(): PassThrough {
    const reader = new PassThrough();
    reader.on('drain', () => this.#ws.resume());
    return reader;
  }

  #onMessage(data: Buffer): void {
    if (this.#protocol.closeSignal && data[0] === CLOSE_SIGNAL) {
      if (data.length === 2) this.#readers.get(data[1]!)?.end();
      else this.#logger.warn({ length: data.length }, 'malformed websocket close signal');
      return;
    }
    const message = decodeMessage(data, this.#protocol.base64);
    const reader = message && this.#readers.get(message.channel);
    if (message === undefined || reader === undefined || reader.writableEnded) return;
    if (!reader.write(message.payload)) this.#ws.pause();
  }
}
