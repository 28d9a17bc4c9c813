// The part of spdy-transport 3.x crid uses (the package ships no types). `_spdyState` is
// internal: spdy-compat.ts adjusts it so Go's spdystream peers can talk to us.
declare module 'spdy-transport' {
  import type { Duplex } from 'node:stream';
  import type { EventEmitter } from 'node:events';

  export interface SpdyHeaders {
    [name: string]: string | string[] | undefined;
  }

  export interface SpdyFrame {
    type: string;
    id?: number;
  }

  export interface SpdyStream extends Duplex {
    readonly id: number;
    readonly headers: SpdyHeaders;
    respond(status: number, headers: SpdyHeaders, callback?: (err?: Error | null) => void): void;
    abort(callback?: () => void): void;
  }

  interface WindowSide {
    max: number;
    limit: number;
    current: number;
    lowWaterMark: number;
  }

  interface SpdyParser {
    parseKVs(buffer: unknown, callback: (err: Error | null, headers?: SpdyHeaders) => void): void;
  }

  export interface SpdyConnection extends EventEmitter {
    start(version: number): void;
    end(callback?: () => void): void;
    request(
      uri: { method: string; path: string; host?: string; headers: SpdyHeaders },
      callback?: (err: Error | null, stream: SpdyStream) => void,
    ): SpdyStream;
    destroyStreams(err?: Error): void;
    on(event: 'stream', listener: (stream: SpdyStream) => void): this;
    on(event: 'frame', listener: (frame: SpdyFrame) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    _spdyState: {
      parser: SpdyParser;
      streamWindow: { send: WindowSide };
    };
  }

  const transport: {
    connection: {
      create(socket: Duplex, options: { protocol: 'spdy'; isServer: boolean }): SpdyConnection;
    };
  };
  export default transport;
}
