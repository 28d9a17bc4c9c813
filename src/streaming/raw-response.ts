// Answers on a socket taken over by an HTTP upgrade, before or instead of switching protocols.
import { http } from '../util/http-modules.ts';
import type { Duplex } from 'node:stream';

function head(status: number, headers: Record<string, string | readonly string[]>): string {
  const lines = [`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}`];
  for (const [name, value] of Object.entries(headers)) {
    for (const v of typeof value === 'string' ? [value] : value) lines.push(`${name}: ${v}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Sends an error response with a text body and closes the socket. */
export function rejectUpgrade(
  socket: Duplex,
  status: number,
  message: string,
  headers: Record<string, string | readonly string[]> = {},
): void {
  const body = `${message}\n`;
  socket.end(
    head(status, {
      ...headers,
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
      Connection: 'close',
    }) + body,
  );
}

/** Sends `101 Switching Protocols` for `upgrade`, with extra headers. */
export function switchProtocols(socket: Duplex, upgrade: string, headers: Record<string, string>): void {
  socket.write(head(101, { Connection: 'Upgrade', Upgrade: upgrade, ...headers }));
}
