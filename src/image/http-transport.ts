// One HTTP(S) request to a registry host with that host's TLS settings, over keep-alive agents.
// node:http rather than fetch because hosts.toml's `ca` and `skip_verify` are per-host TLS options.
import http from 'node:http';
import https from 'node:https';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { unavailable } from '../errors.ts';
import type { RegistryHost } from './hosts-config.ts';

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Readable;
}

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH';
  url: URL;
  headers?: Record<string, string>;
  body?: Buffer | Readable;
}

const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const httpsAgents = new Map<string, https.Agent>();

async function httpsAgentFor(host: RegistryHost): Promise<https.Agent> {
  const key = `${host.skipVerify}|${host.ca.join(',')}`;
  let agent = httpsAgents.get(key);
  if (agent === undefined) {
    const ca = host.ca.length === 0 ? undefined : await Promise.all(host.ca.map((f) => readFile(f)));
    agent = new https.Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: !host.skipVerify, ...(ca && { ca }) });
    httpsAgents.set(key, agent);
  }
  return agent;
}

export async function sendRequest(host: RegistryHost, req: HttpRequest): Promise<HttpResponse> {
  const isHttps = req.url.protocol === 'https:';
  const agent = isHttps ? await httpsAgentFor(host) : httpAgent;
  const send = isHttps ? https.request : http.request;
  return new Promise<HttpResponse>((resolve, reject) => {
    const request = send(req.url, { method: req.method, headers: req.headers, agent }, (res) =>
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }),
    );
    request.on('error', (err) => reject(unavailable(`${req.method} ${req.url.origin}${req.url.pathname}: ${err.message}`, err)));
    if (req.body === undefined) request.end();
    else if (Buffer.isBuffer(req.body)) request.end(req.body);
    else req.body.pipe(request);
  });
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
