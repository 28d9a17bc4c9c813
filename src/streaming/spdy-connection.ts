// SPDY/3.1 over an upgraded HTTP connection, framed by spdy-transport.
import type { Duplex } from 'node:stream';
import transport, { type SpdyConnection, type SpdyStream } from 'spdy-transport';
import type { Logger } from '../log.ts';
import { headerProtocols, negotiate } from './protocols.ts';
import { rejectUpgrade, switchProtocols } from './raw-response.ts';

export const SPDY_UPGRADE = 'SPDY/3.1';
export const PROTOCOL_VERSION_HEADER = 'X-Stream-Protocol-Version';

/**
 * Kubernetes peers speak SPDY through Go's spdystream, which differs from what spdy-transport
 * expects of an HTTP peer: its SYN_STREAMs carry only the application's headers (no :method or
 * :path, which spdy-transport would refuse), and it never sends WINDOW_UPDATE (so any flow-control
 * window we honoured would stall output after 64 KiB). We fill in the pseudo-headers and give our
 * sending side an unbounded window, as spdystream itself does.
 */
function relaxForSpdystreamPeers(connection: SpdyConnection): void {
  const state = connection._spdyState;
  const parseKVs = state.parser.parseKVs.bind(state.parser);
  state.parser.parseKVs = (buffer, callback) =>
    parseKVs(buffer, (err, headers) => {
      if (headers !== undefined) {
        headers[':method'] ??= 'POST';
        headers[':path'] ??= '/';
      }
      callback(err, headers);
    });
  const send = state.streamWindow.send;
  send.max = Number.MAX_SAFE_INTEGER;
  send.limit = Infinity;
  send.lowWaterMark = 0;
}

/**
 * Negotiates the subprotocol (X-Stream-Protocol-Version, client's preference first), answers 101
 * and returns the SPDY server connection; on failure answers the error and returns undefined.
 */
export function upgradeToSpdy(
  socket: Duplex,
  head: Buffer,
  requested: string | string[] | undefined,
  supported: readonly string[],
): { connection: SpdyConnection; protocol: string } | undefined {
  const clientProtocols = headerProtocols(requested);
  if (clientProtocols.length === 0) {
    rejectUpgrade(socket, 400, `unable to upgrade: ${PROTOCOL_VERSION_HEADER} is required`);
    return undefined;
  }
  const protocol = negotiate(clientProtocols, supported);
  if (protocol === undefined) {
    rejectUpgrade(
      socket,
      403,
      `unable to upgrade: unable to negotiate protocol: client supports [${clientProtocols.join(' ')}], server accepts [${supported.join(' ')}]`,
      { 'X-Accepted-Stream-Protocol-Versions': supported },
    );
    return undefined;
  }
  switchProtocols(socket, SPDY_UPGRADE, { [PROTOCOL_VERSION_HEADER]: protocol });
  if (head.length > 0) socket.unshift(head);
  const connection = transport.connection.create(socket, { protocol: 'spdy', isServer: true });
  relaxForSpdystreamPeers(connection);
  return { connection, protocol };
}

/** One header of a client-created stream (spdystream sends them lower-cased). */
export function streamHeader(stream: SpdyStream, name: string): string | undefined {
  const value = stream.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Accepts a client-created stream (SYN_REPLY) and keeps its errors from crashing the daemon. */
export function acceptStream(stream: SpdyStream, logger: Logger): void {
  stream.on('error', (err: Error) => logger.debug({ err, streamId: stream.id }, 'spdy stream error'));
  stream.respond(200, {});
}

/** Destroys `socket` once the client has gone away (GOAWAY) or after `graceMs` at most. */
export function closeWhenClientDone(connection: SpdyConnection, socket: Duplex, graceMs: number): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), graceMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  connection.on('frame', (frame) => {
    if (frame.type === 'GOAWAY') socket.destroy();
  });
}
