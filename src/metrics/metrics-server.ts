// The `/metrics` HTTP endpoint on `[crid] metrics_address`: loopback by default, off when "".
import type { IncomingMessage, ServerResponse } from 'node:http';
import { http } from '../util/http-modules.ts';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.ts';
import type { CridMetrics } from './metrics.ts';
import { invalidArgument } from '../errors.ts';
import { isLoopbackHost, parseListenAddress } from '../config/listen-address.ts';

export interface MetricsServerOptions {
  address: string;
  /**
   * Whether the config file sets metrics_address (LoadResult.sources.has('crid.metrics_address')).
   * A non-loopback address is served only when the admin wrote it; a default never exposes metrics.
   */
  explicit: boolean;
  metrics: CridMetrics;
  log: Logger;
}

export interface MetricsServer {
  /** `host:port` actually bound (the port is known after binding port 0). */
  address: string;
  close(): Promise<void>;
}

/** Starts the endpoint; undefined when metrics are off (address ""). */
export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer | undefined> {
  if (opts.address === '') return undefined;
  const parsed = parseListenAddress(opts.address);
  if (parsed === undefined) throw invalidArgument(`invalid metrics_address "${opts.address}": expected host:port`);
  const loopback = parsed.host !== '' && isLoopbackHost(parsed.host);
  if (!loopback && !opts.explicit)
    throw invalidArgument(
      `refusing to serve metrics on non-loopback address "${opts.address}" that the config does not set`,
    );
  if (!loopback) opts.log.warn({ address: opts.address }, 'metrics are served beyond loopback, as configured');
  const server = http.createServer((req, res) => respond(opts.metrics, req, res, opts.log));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(parsed.port, parsed.host === '' ? undefined : parsed.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => opts.log.warn({ err }, 'metrics server error'));
  const bound = server.address() as AddressInfo;
  const address = `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`;
  opts.log.info({ address }, 'serving metrics');
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function respond(metrics: CridMetrics, req: IncomingMessage, res: ServerResponse, log: Logger): void {
  const url = new URL(req.url ?? '/', 'http://metrics');
  if (url.pathname !== '/metrics') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: crid serves /metrics\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
    return;
  }
  metrics.scrape().then(
    (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(req.method === 'HEAD' ? undefined : text),
    (err: unknown) => {
      log.warn({ err }, 'metrics scrape failed');
      res
        .writeHead(500, { 'content-type': 'text/plain' })
        .end(`scrape failed: ${err instanceof Error ? err.message : String(err)}\n`);
    },
  );
}
