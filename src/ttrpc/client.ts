// ttrpc client over a unix socket: unary calls multiplexed by odd, strictly increasing stream ids.
import net from 'node:net';
import { EventEmitter } from 'node:events';
import { deadlineExceeded, errorFromStatus, resourceExhausted, unavailable } from '../errors.ts';
import { decodeMessage, encodeMessage, type Message } from './codec.ts';
import {
  FrameDecoder,
  MESSAGE_TYPE_REQUEST,
  MESSAGE_TYPE_RESPONSE,
  encodeFrame,
  isOversize,
  oversizeMessage,
  type DecodedFrame,
} from './frame.ts';

export interface CallOptions {
  /** Sent as timeout_nano and enforced locally; 0 or absent = no deadline (use for Wait). */
  timeoutMs?: number;
  /** Keys are sent lower-case: ttrpc servers lower-case only the lookup key. */
  metadata?: Record<string, string>;
}

/** ttrpc.Response as decoded. */
interface Response {
  status: { code: number; message: string } | null;
  payload: Buffer;
}

interface Pending {
  resolve: (payload: Buffer) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
  what: string;
}

/** Strips a unix:// scheme: shims print `unix:///run/...`. */
export function socketPath(address: string): string {
  return address.replace(/^unix:\/\//, '');
}

export class TtrpcClient {
  private readonly socket: net.Socket;
  private readonly decoder = new FrameDecoder();
  private readonly pending = new Map<number, Pending>();
  private readonly events = new EventEmitter();
  private nextStreamId = 1;
  private closedWith: Error | undefined;
  readonly address: string;

  private constructor(socket: net.Socket, address: string) {
    this.socket = socket;
    this.address = address;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) =>
      this.shutdown(unavailable(`ttrpc connection to ${address} failed: ${err.message}`, err)),
    );
    socket.on('close', () => this.shutdown(unavailable(`ttrpc connection to ${address} closed`)));
  }

  /** Dials a unix socket (`unix://` prefix accepted). */
  static connect(address: string, timeoutMs = 10_000): Promise<TtrpcClient> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ path: socketPath(address) });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(deadlineExceeded(`dialing ${address} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new TtrpcClient(socket, address));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(unavailable(`cannot connect to ${address}: ${err.message}`, err));
      });
    });
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Called once when the connection ends for any reason (the peer went away or close()). */
  onClose(listener: (err: Error) => void): void {
    if (this.closedWith) queueMicrotask(() => listener(this.closedWith!));
    else this.events.once('close', listener);
  }

  /** A unary call with raw payload bytes; resolves with the response payload. */
  call(service: string, method: string, payload: Uint8Array, options: CallOptions = {}): Promise<Buffer> {
    const what = `${service}/${method}`;
    if (this.closedWith) return Promise.reject(unavailable(`${what}: ${this.closedWith.message}`));
    const timeoutMs = options.timeoutMs ?? 0;
    const request = encodeMessage('ttrpc.Request', {
      service,
      method,
      payload,
      timeout_nano: (BigInt(Math.round(timeoutMs)) * 1_000_000n).toString(),
      metadata: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key: key.toLowerCase(), value })),
    });
    return new Promise<Buffer>((resolve, reject) => {
      // Allocation and write happen in the same synchronous turn, so ids reach the wire in order.
      const streamId = this.nextStreamId;
      this.nextStreamId += 2;
      const frame = encodeFrame(streamId, MESSAGE_TYPE_REQUEST, request);
      const timer = timeoutMs > 0 ? setTimeout(() => this.expire(streamId, timeoutMs), timeoutMs) : undefined;
      this.pending.set(streamId, { resolve, reject, timer, what });
      this.socket.write(frame);
    });
  }

  /** A unary call with protobuf messages named by their full names; `Res` as in decodeMessage. */
  async request<Res extends object = Message>(
    service: string,
    method: string,
    requestType: string,
    request: Message,
    responseType: string,
    options?: CallOptions,
  ): Promise<Res> {
    const payload = await this.call(service, method, encodeMessage(requestType, request), options);
    return decodeMessage<Res>(responseType, payload);
  }

  close(): void {
    this.socket.destroy();
    this.shutdown(unavailable(`ttrpc connection to ${this.address} closed by crid`));
  }

  private expire(streamId: number, timeoutMs: number): void {
    const call = this.pending.get(streamId);
    if (!call) return;
    this.pending.delete(streamId);
    call.reject(deadlineExceeded(`${call.what} timed out after ${timeoutMs} ms`));
  }

  private onData(chunk: Buffer): void {
    let frames: DecodedFrame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.socket.destroy(err as Error);
      return;
    }
    for (const frame of frames) this.onFrame(frame);
  }

  private onFrame(frame: DecodedFrame): void {
    if (frame.type !== MESSAGE_TYPE_RESPONSE) return;
    const call = this.pending.get(frame.streamId);
    if (!call) return;
    this.pending.delete(frame.streamId);
    clearTimeout(call.timer);
    if (isOversize(frame)) {
      call.reject(resourceExhausted(`${call.what}: ${oversizeMessage(frame.oversize)}`));
      return;
    }
    try {
      const response = decodeMessage<Response>('ttrpc.Response', frame.data);
      const status = response.status;
      if (status && status.code !== 0) call.reject(errorFromStatus(status.code, `${call.what}: ${status.message}`));
      else call.resolve(response.payload);
    } catch (err) {
      call.reject(err as Error);
    }
  }

  private shutdown(err: Error): void {
    if (this.closedWith) return;
    this.closedWith = err;
    for (const [id, call] of this.pending) {
      clearTimeout(call.timer);
      this.pending.delete(id);
      call.reject(unavailable(`${call.what}: ${err.message}`, err));
    }
    this.events.emit('close', err);
  }
}
