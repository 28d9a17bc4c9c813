// `host:port` listen addresses of crid's own HTTP endpoints (`[crid] metrics_address`).
import { isIP } from 'node:net';

export interface ListenAddress {
  /** "" means every interface. */
  host: string;
  port: number;
}

/** `127.0.0.1:9149`, `[::1]:9149`, `localhost:9149`, `:9149`; undefined when malformed. */
export function parseListenAddress(text: string): ListenAddress | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const host = match[1] ?? match[2] ?? '';
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  if (match[1] !== undefined && isIP(host) !== 6) return undefined;
  return { host, port };
}

/** Only the loopback interface: 127.0.0.0/8, ::1 or the name localhost. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}
