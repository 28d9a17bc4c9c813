// HTTP(S) requests to registry hosts with each host's TLS settings, over keep-alive agents. Proxies
// come from the given environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY, as curl and Go read them) through
// Node's own proxy support in its agents. node:http rather than fetch because hosts.toml's `ca` and
// `skip_verify` are per-host TLS options.
import type { Agent as HttpAgent, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { http, https } from '../util/http-modules.ts';
import { readFile } from 'node:fs/promises';
import { pipeline, Transform, type Readable } from 'node:stream';
import { unavailable } from '../errors.ts';
import type { RegistryHost } from './hosts-config.ts';

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Readable;
}

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH';
  url: URL;
  headers?: Record<string, string>;
  body?: Buffer | Readable;
}

/** Watches a pull's traffic: requests in flight and bytes received. */
export interface TransferObserver {
  /** A request went out; the returned function is called once when it and its body are done. */
  begin(): () => void;
  received(bytes: number): void;
}

export interface TransportOptions {
  /** Where HTTP_PROXY / HTTPS_PROXY / NO_PROXY are read (crid's environment); none when absent. */
  proxyEnv?: NodeJS.ProcessEnv;
  /** A connection not established within this fails the request. */
  connectTimeoutMs: number;
}

/** containerd's dial timeout for registry hosts. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;

export interface SendOptions {
  signal?: AbortSignal;
  observer?: TransferObserver;
}

export class HttpTransport {
  readonly #opts: TransportOptions;
  readonly #httpAgent: HttpAgent;
  readonly #httpsAgents = new Map<string, HttpsAgent>();

  constructor(opts: TransportOptions) {
    this.#opts = opts;
    this.#httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16, ...this.#proxy() });
  }

  #proxy(): { proxyEnv?: NodeJS.ProcessEnv } {
    return this.#opts.proxyEnv ? { proxyEnv: this.#opts.proxyEnv } : {};
  }

  async #httpsAgentFor(host: RegistryHost): Promise<HttpsAgent> {
    const client = host.client[0];
    const key = `${host.skipVerify}|${host.ca.join(',')}|${client?.cert ?? ''}|${client?.key ?? ''}`;
    let agent = this.#httpsAgents.get(key);
    if (agent === undefined) {
      const ca = host.ca.length === 0 ? undefined : await Promise.all(host.ca.map((f) => readFile(f)));
      // A single PEM file may hold both the certificate and its key.
      const mtls = client && { cert: await readFile(client.cert), key: await readFile(client.key || client.cert) };
      agent = new https.Agent({
        keepAlive: true,
        maxSockets: 16,
        rejectUnauthorized: !host.skipVerify,
        ...(ca && { ca }),
        ...mtls,
        ...this.#proxy(),
      });
      this.#httpsAgents.set(key, agent);
    }
    return agent;
  }

  async send(host: RegistryHost, req: HttpRequest, opts: SendOptions = {}): Promise<HttpResponse> {
    const isHttps = req.url.protocol === 'https:';
    const agent = isHttps ? await this.#httpsAgentFor(host) : this.#httpAgent;
    const send = isHttps ? https.request : http.request;
    const what = `${req.method} ${req.url.origin}${req.url.pathname}`;
    const done = once(opts.observer?.begin() ?? (() => {}));
    return new Promise<HttpResponse>((resolve, reject) => {
      const request = send(
        req.url,
        { method: req.method, headers: req.headers, agent, ...(opts.signal && { signal: opts.signal }) },
        (res) =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: observed(res, opts.observer, done) }),
      );
      request.on('socket', (socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(
          () => request.destroy(new Error(`no connection within ${this.#opts.connectTimeoutMs} ms`)),
          this.#opts.connectTimeoutMs,
        );
        socket.once('connect', () => clearTimeout(timer));
        socket.once('close', () => clearTimeout(timer));
      });
      request.on('error', (err) => {
        done();
        reject(unavailable(`${what}: ${err.message}`, err));
      });
      if (req.body === undefined) request.end();
      else if (Buffer.isBuffer(req.body)) request.end(req.body);
      else req.body.pipe(request);
    });
  }
}

function once(fn: () => void): () => void {
  let called = false;
  return () => {
    if (!called) fn();
    called = true;
  };
}

/** The body, counted for the observer, which learns when it ends or fails. */
function observed(res: IncomingMessage, observer: TransferObserver | undefined, done: () => void): Readable {
  if (!observer) return res;
  const counted = new Transform({
    transform(chunk: Buffer, _enc, next) {
      observer.received(chunk.length);
      next(null, chunk);
    },
  });
  pipeline(res, counted, () => done());
  counted.once('close', done);
  return counted;
}

/** Reads a whole response body, refusing more than `limit` bytes. */
export async function readBody(res: HttpResponse, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      res.body.destroy();
      throw unavailable(`response body larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Drops a response body we do not need, so the keep-alive socket is reused. */
export function discardBody(res: HttpResponse): void {
  res.body.resume();
}
