// A registry behind TLS that wants a client certificate (mTLS), configured in hosts.toml (`ca`,
// `client`), reached directly and through an HTTPS_PROXY tunnel (CONNECT).
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageService } from '../../src/image/image-service.ts';
import { silentLogger } from '../../src/log.ts';
import { buildLayer, busyboxEntries, pushImage, type PushedImage } from '../helpers/image-builder.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

let registry: TestRegistry;
let work: string;
let app: PushedImage;
let tlsAddress: string;
const clientsSeen: string[] = [];
const closers: Array<() => Promise<unknown>> = [];

async function openssl(args: string[]): Promise<void> {
  await execa('openssl', args, { cwd: work });
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
async function makeCertificates(): Promise<void> {
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=crid test CA',
  ]);
  for (const [name, extra] of [
    ['server', 'subjectAltName=IP:127.0.0.1'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    await openssl([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=crid test ${name}`,
    ]);
    fs.writeFileSync(path.join(work, `${name}.ext`), `${extra}\n`);
    await openssl([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    ]);
  }
}

/** TLS in front of the plain registry, refusing connections without a client certificate of the CA. */
async function startTlsFront(upstream: string): Promise<string> {
  const read = (f: string) => fs.readFileSync(path.join(work, f));
  const server = https.createServer(
    {
      key: read('server.key'),
      cert: read('server.crt'),
      ca: read('ca.crt'),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      clientsSeen.push(String((req.socket as TLSSocket).getPeerCertificate().subject?.CN));
      const up = http.request(
        `http://${upstream}${req.url}`,
        { method: req.method, headers: { ...req.headers, host: upstream } },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  );
  return `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

/** An HTTP proxy that tunnels CONNECT requests, recording their targets. */
async function startConnectProxy(): Promise<{ url: string; connects: string[] }> {
  const connects: string[] = [];
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, client: net.Socket, head: Buffer) => {
    connects.push(String(req.url));
    const [host, port] = String(req.url).split(':');
    const target = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      target.write(head);
      target.pipe(client);
      client.pipe(target);
    });
    target.on('error', () => client.destroy());
    client.on('error', () => target.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, connects };
}

function hostsDir(withClient: boolean): string {
  const dir = fs.mkdtempSync(path.join(work, 'hosts-'));
  const hostDir = path.join(dir, `${tlsAddress.replace(':', '_')}_`);
  fs.mkdirSync(hostDir);
  const client = withClient
    ? `client = [["${path.join(work, 'client.crt')}", "${path.join(work, 'client.key')}"]]\n`
    : '';
  fs.writeFileSync(
    path.join(hostDir, 'hosts.toml'),
    `server = "https://${tlsAddress}"\nca = "${path.join(work, 'ca.crt')}"\n${client}`,
  );
  return dir;
}

let n = 0;
const service = (registryConfigPath: string, proxyEnv?: NodeJS.ProcessEnv) =>
  ImageService.open({
    root: path.join(work, `root-${n++}`),
    registryConfigPath,
    log: silentLogger,
    ...(proxyEnv && { proxyEnv }),
  });

beforeAll(async () => {
  registry = await startRegistry();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-pull-tls-'));
  app = await pushImage(registry.address, 'secure/app', [await buildLayer(await busyboxEntries())], { tag: 'v1' });
  await makeCertificates();
  tlsAddress = await startTlsFront(registry.address);
});

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await registry?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('pulls from a registry that wants a client certificate', () => {
  it("presents hosts.toml's client certificate and trusts its ca", async () => {
    const images = await service(hostsDir(true));
    expect((await images.pull(`${tlsAddress}/secure/app:v1`)).id).toBe(app.configDigest);
    expect(clientsSeen).toContain('crid test client');
  });

  it('fails without the client certificate', async () => {
    await expect((await service(hostsDir(false))).pull(`${tlsAddress}/secure/app:v1`)).rejects.toMatchObject({
      kind: 'Unavailable',
    });
  });

  it('tunnels through the HTTPS_PROXY of its environment', async () => {
    const proxy = await startConnectProxy();
    const images = await service(hostsDir(true), { HTTPS_PROXY: proxy.url });
    expect((await images.pull(`${tlsAddress}/secure/app:v1`)).id).toBe(app.configDigest);
    expect(proxy.connects).toContain(tlsAddress);
  });
});
