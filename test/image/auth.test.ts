// Registry authentication: htpasswd basic auth on a real docker-registry, and the bearer-token
// challenge against a small token service in front of it (docker-registry's own token auth needs a
// signing PKI, so the bearer side is a loopback proxy that checks tokens it issued).
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthConfig__Output } from '../../src/generated/runtime/v1/AuthConfig.ts';
import { ImageService } from '../../src/image/image-service.ts';
import { silentLogger } from '../../src/log.ts';
import { freePort, startRegistry, type TestRegistry } from '../helpers/registry.ts';
import { buildLayer, busyboxEntries, pushImage, type PushedImage } from '../helpers/image-builder.ts';

const user = { username: 'alice', password: 'correct horse' };
let registry: TestRegistry;
let work: string;
let app: PushedImage;
let tokenProxy: { address: string; close: () => Promise<void>; tokenRequests: string[] };
let n = 0;

const auth = (fields: Partial<AuthConfig__Output>): AuthConfig__Output => ({
  username: '',
  password: '',
  auth: '',
  server_address: '',
  identity_token: '',
  registry_token: '',
  ...fields,
});

async function freshService(): Promise<ImageService> {
  return ImageService.open({ root: join(work, `root-${n++}`), registryConfigPath: '', log: silentLogger });
}

/** Answers 401 + Bearer challenge unless the request carries a token it issued; forwards the rest. */
async function startTokenProxy(upstream: string): Promise<typeof tokenProxy> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const issued = new Set<string>();
  const tokenRequests: string[] = [];
  const upstreamAuth = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${address}`);
    if (url.pathname === '/token') {
      tokenRequests.push(`${url.searchParams.get('service')} ${url.searchParams.getAll('scope').join(' ')}`);
      if (req.headers.authorization !== upstreamAuth) {
        res.writeHead(401).end();
        return;
      }
      const token = `tok-${issued.size}`;
      issued.add(token);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
      return;
    }
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (token === undefined || !issued.has(token)) {
      res
        .writeHead(401, {
          'www-authenticate': `Bearer realm="http://${address}/token",service="crid-test",scope="repository:crid/app:pull"`,
        })
        .end();
      return;
    }
    const forward = http.request(
      `http://${upstream}${req.url}`,
      { method: req.method, headers: { ...req.headers, host: upstream, authorization: upstreamAuth } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { address, tokenRequests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

beforeAll(async () => {
  registry = await startRegistry({ htpasswd: user });
  work = await mkdtemp(join(tmpdir(), 'crid-auth-'));
  app = await pushImage(registry.address, 'crid/app', [await buildLayer(await busyboxEntries())], {
    tag: 'v1',
    auth: user,
  });
  tokenProxy = await startTokenProxy(registry.address);
});

afterAll(async () => {
  await tokenProxy?.close();
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('basic auth (htpasswd)', () => {
  it('pulls with username and password', async () => {
    const image = await (await freshService()).pull(`${registry.address}/crid/app:v1`, auth(user));
    expect(image.id).toBe(app.configDigest);
  });

  it('pulls with the base64 auth field', async () => {
    const b64 = Buffer.from(`${user.username}:${user.password}`).toString('base64');
    const image = await (await freshService()).pull(
      `${registry.address}/crid/app:v1`,
      auth({ auth: b64, server_address: registry.address }),
    );
    expect(image.id).toBe(app.configDigest);
  });

  it('fails clearly without credentials', async () => {
    await expect((await freshService()).pull(`${registry.address}/crid/app:v1`)).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringMatching(/registry 127\.0\.0\.1:\d+ requires credentials \(401 Unauthorized, basic auth\)/),
    });
  });

  it('fails clearly with wrong credentials and stores nothing', async () => {
    const images = await freshService();
    await expect(
      images.pull(`${registry.address}/crid/app:v1`, auth({ username: 'alice', password: 'wrong' })),
    ).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringContaining('denied access to crid/app (401): the credentials were rejected'),
    });
    expect(images.list()).toEqual([]);
  });
});

describe('bearer token challenge', () => {
  it('gets a token from the realm with the credentials and pulls', async () => {
    const image = await (await freshService()).pull(`${tokenProxy.address}/crid/app:v1`, auth(user));
    expect(image.id).toBe(app.configDigest);
    expect(tokenProxy.tokenRequests[0]).toBe('crid-test repository:crid/app:pull');
  });

  it('sends a registry token as is', async () => {
    await (await freshService()).pull(`${tokenProxy.address}/crid/app:v1`, auth(user));
    const image = await (await freshService()).pull(
      `${tokenProxy.address}/crid/app:v1`,
      auth({ registry_token: 'tok-0' }),
    );
    expect(image.id).toBe(app.configDigest);
  });

  it('reports a token service that rejects the credentials', async () => {
    await expect(
      (await freshService()).pull(`${tokenProxy.address}/crid/app:v1`, auth({ username: 'alice', password: 'nope' })),
    ).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringContaining('rejected the credentials for crid/app'),
    });
  });
});
