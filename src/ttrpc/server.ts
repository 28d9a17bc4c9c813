// ttrpc server over a unix socket, for the events shims publish (and the fake shim's task service).
import fs from 'node:fs';
import net from 'node:net';
import { CODE_BY_KIND, CridError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { decodeMessage, encodeMessage } from './codec.ts';
import {
  FrameDecoder,
  MESSAGE_TYPE_REQUEST,
  MESSAGE_TYPE_RESPONSE,
  encodeFrame,
  isOversize,
  oversizeMessage,
  type DecodedFrame,
} from './frame.ts';

const CODE_UNKNOWN = 2;
const CODE_RESOURCE_EXHAUSTED = 8;
const CODE_UNIMPLEMENTED = 12;

/** ttrpc.Request as decoded. */
interface Request {
  service: string;
  method: string;
  payload: Buffer;
  timeout_nano: string;
  metadata: Array<{ key: string; value: string }>;
}

export interface RequestContext {
  /** Request metadata, keys lower-cased. */
  metadata: Record<string, string>;
  /** 0 = none. */
  timeoutNano: bigint;
}

/** Takes the request payload, returns the response payload (empty for google.protobuf.Empty). */
export type MethodHandler = (payload: Buffer, ctx: RequestContext) => Promise<Uint8Array>;

export class TtrpcServer {
  private readonly methods = new Map<string, MethodHandler>();
  private readonly connections = new Set<net.Socket>();
  private readonly log: Logger;
  private server: net.Server | undefined;

  constructor(log: Logger) {
    this.log = log;
  }

  register(service: string, method: string, handler: MethodHandler): void {
    this.methods.set(`${service}/${method}`, handler);
  }

  /** Listens on a unix socket path, replacing a stale socket file. */
  async listen(path: string): Promise<void> {
    fs.rmSync(path, { force: true });
    await this.serve((server) => server.listen({ path }));
    fs.chmodSync(path, 0o600);
  }

  /** Serves on an already listening socket handed over as a file descriptor. */
  async listenOnFd(fd: number): Promise<void> {
    await this.serve((server) => server.listen({ fd }));
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.connections) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private serve(listen: (server: net.Server) => void): Promise<void> {
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.once('listening', () => {
        server.off('error', reject);
        server.on('error', (err) => this.log.error({ err }, 'ttrpc server error'));
        resolve();
      });
      listen(server);
    });
  }

  private accept(socket: net.Socket): void {
    this.connections.add(socket);
    const decoder = new FrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) this.onFrame(socket, frame);
    });
    socket.on('error', (err) => this.log.debug({ err }, 'ttrpc client connection error'));
    socket.on('close', () => this.connections.delete(socket));
  }

  private onFrame(socket: net.Socket, frame: DecodedFrame): void {
    if (frame.type !== MESSAGE_TYPE_REQUEST) return;
    if (isOversize(frame)) {
      this.reply(socket, frame.streamId, CODE_RESOURCE_EXHAUSTED, oversizeMessage(frame.oversize));
      return;
    }
    void this.dispatch(socket, frame.streamId, frame.data);
  }

  private async dispatch(socket: net.Socket, streamId: number, data: Buffer): Promise<void> {
    try {
      const request = decodeMessage<Request>('ttrpc.Request', data);
      const handler = this.methods.get(`${request.service}/${request.method}`);
      if (!handler) {
        const known = [...this.methods.keys()].some((key) => key.startsWith(`${request.service}/`));
        const what = known ? `method ${request.method}` : `service ${request.service}`;
        this.reply(socket, streamId, CODE_UNIMPLEMENTED, what);
        return;
      }
      const metadata: Record<string, string> = {};
      for (const kv of request.metadata) metadata[String(kv.key).toLowerCase()] = kv.value;
      const payload = await handler(request.payload, { metadata, timeoutNano: BigInt(request.timeout_nano) });
      this.reply(socket, streamId, 0, '', payload);
    } catch (err) {
      const code = err instanceof CridError ? CODE_BY_KIND[err.kind] : CODE_UNKNOWN;
      this.reply(socket, streamId, code, err instanceof Error ? err.message : String(err));
    }
  }

  private reply(socket: net.Socket, streamId: number, code: number, message: string, payload?: Uint8Array): void {
    if (socket.destroyed) return;
    const response = code === 0 ? { payload } : { status: { code, message } };
    socket.write(encodeFrame(streamId, MESSAGE_TYPE_RESPONSE, encodeMessage('ttrpc.Response', response)));
  }
}
