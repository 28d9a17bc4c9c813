// Pulls on real networks: through an HTTP proxy from crid's environment, from a registry that
// accepts and never answers (image_pull_progress_timeout), and cancelled by a CRI client's deadline.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageService } from '../../src/image/image-service.ts';
import { silentLogger } from '../../src/log.ts';
import { criClient } from '../helpers/cri-client.ts';
import { startCrid, waitForSocket } from '../helpers/crid-process.ts';
import { buildLayer, busyboxEntries, pushImage, type PushedImage } from '../helpers/image-builder.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

let registry: TestRegistry;
let work: string;
let app: PushedImage;
const closers: Array<() => Promise<unknown>> = [];

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => {
    const closed = new Promise((resolve) => server.close(resolve));
    if (server instanceof http.Server) server.closeAllConnections();
    return closed;
  });
  return (server.address() as net.AddressInfo).port;
}

/** A forward proxy for plain-HTTP absolute-URI requests, recording what passed through it. */
async function startProxy(): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const upstream = http.request(req.url!, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  return { url: `http://127.0.0.1:${await listen(server)}`, seen };
}

/** Tracks the connections a server accepted, and which of them are closed. */
function connections(server: net.Server) {
  const sockets: net.Socket[] = [];
  server.on('connection', (s) => {
    s.resume(); // reads (and drops) what arrives, so the peer's close is seen
    sockets.push(s);
    closers.push(async () => s.destroy());
  });
  return { all: () => sockets, allClosed: () => sockets.length > 0 && sockets.every((s) => s.closed) };
}

async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((r) => setTimeout(r, 20));
}

beforeAll(async () => {
  registry = await startRegistry();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-pull-network-'));
  app = await pushImage(registry.address, 'crid/proxied', [await buildLayer(await busyboxEntries())], { tag: 'v1' });
});

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await registry?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('pulls on real networks', () => {
  it("pulls through the HTTP proxy of crid's environment, which sees the requests", async () => {
    const proxy = await startProxy();
    const images = await ImageService.open({
      root: path.join(work, 'proxied'),
      registryConfigPath: '',
      log: silentLogger,
      proxyEnv: { HTTP_PROXY: proxy.url },
    });
    const image = await images.pull(`${registry.address}/crid/proxied:v1`);
    expect(image.id).toBe(app.configDigest);
    expect(proxy.seen).toContain(`GET http://${registry.address}/v2/crid/proxied/manifests/v1`);
    expect(proxy.seen).toContain(`GET http://${registry.address}/v2/crid/proxied/blobs/${app.configDigest}`);
  });

  it('goes direct to hosts NO_PROXY names', async () => {
    const proxy = await startProxy();
    const proxyEnv = { HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' };
    const images = await ImageService.open({
      root: path.join(work, 'no-proxy'),
      registryConfigPath: '',
      log: silentLogger,
      proxyEnv,
    });
    expect((await images.pull(`${registry.address}/crid/proxied:v1`)).id).toBe(app.configDigest);
    expect(proxy.seen).toEqual([]);
  });

  it('cancels a pull from a registry that accepts and never answers after image_pull_progress_timeout', async () => {
    const silent = net.createServer(() => {});
    const conns = connections(silent);
    const port = await listen(silent);
    const images = await ImageService.open({
      root: path.join(work, 'stalled'),
      registryConfigPath: '',
      log: silentLogger,
      progressTimeoutMs: 300,
    });
    await expect(images.pull(`127.0.0.1:${port}/stalled/image:v1`)).rejects.toMatchObject({
      kind: 'DeadlineExceeded',
      message: expect.stringContaining('image_pull_progress_timeout'),
    });
    await until(conns.allClosed);
  });
});

/** A registry whose manifest points at a config blob it then sends one byte at a time, forever. */
async function startDribblingRegistry() {
  const config = {
    mediaType: 'application/vnd.oci.image.config.v1+json',
    digest: `sha256:${'a'.repeat(64)}`,
    size: 10_000_000,
  };
  const layer = {
    mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
    digest: `sha256:${'b'.repeat(64)}`,
    size: 10_000_000,
  };
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config,
    layers: [layer],
  });
  const blobRequests: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    if (req.url?.includes('/manifests/')) {
      res.writeHead(200, {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
        'content-length': Buffer.byteLength(manifest),
      });
      res.end(manifest);
      return;
    }
    blobRequests.push(req);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': config.size });
    const timer = setInterval(() => res.write('x'), 20);
    res.on('close', () => clearInterval(timer));
  });
  const port = await listen(server);
  return { address: `127.0.0.1:${port}`, blobRequests };
}

describe('a CRI PullImage whose deadline passes', () => {
  it('stops downloading: the registry sees the blob connection closed', async () => {
    const dir = fs.mkdtempSync(path.join(work, 'crid-'));
    const socket = path.join(dir, 'crid.sock');
    const configFile = path.join(dir, 'config.toml');
    fs.writeFileSync(
      configFile,
      `version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  image_pull_progress_timeout = "1h"\n[plugins."io.containerd.grpc.v1.cri".cni]\n  conf_dir = "${dir}/net.d"\n[crid]\n  root = "${dir}/root"\n  state = "${dir}/state"\n  metrics_address = ""\n`,
    );
    const crid = startCrid(configFile, socket);
    closers.push(() => crid.stop());
    await waitForSocket(crid);
    const client = criClient(socket);
    closers.push(async () => client.close());
    const dribbling = await startDribblingRegistry();

    await expect(
      client.image.PullImage({ image: { image: `${dribbling.address}/slow/image:v1` } }, 1500),
    ).rejects.toMatchObject({ code: 4 });
    await until(() => dribbling.blobRequests.length > 0 && dribbling.blobRequests.every((r) => r.socket.closed));
    expect(dribbling.blobRequests).toHaveLength(1);
  });
});
