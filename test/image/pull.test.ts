// Pulls from a real docker-registry into a temp crid root: tags, digests, indexes, mirrors, the
// rootfs an overlay snapshot shows, shared concurrent pulls, restart, removal, corrupt blobs.
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageService } from '../../src/image/image-service.ts';
import { digestHex } from '../../src/reference/digest.ts';
import { silentLogger } from '../../src/log.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';
import {
  buildLayer,
  busyboxEntries,
  dir,
  file,
  hardlink,
  opaque,
  pushImage,
  pushIndex,
  symlink,
  whiteout,
  type BuiltLayer,
  type PushedImage,
} from '../helpers/image-builder.ts';

let registry: TestRegistry;
let work: string;
let base: BuiltLayer;
let app: PushedImage;
const cleanups: Array<() => Promise<unknown>> = [];

async function openService(name: string, registryConfigPath = ''): Promise<ImageService> {
  return ImageService.open({ root: join(work, name), registryConfigPath, log: silentLogger });
}

beforeAll(async () => {
  registry = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'crid-pull-'));
  base = await buildLayer(
    [
      ...(await busyboxEntries()),
      dir('etc/data'),
      file('etc/data/a', 'A'),
      file('etc/data/b', 'B'),
      dir('opq'),
      file('opq/x', 'x'),
      file('opq/y', 'y'),
    ],
    'gzip',
  );
  const deletions = await buildLayer(
    [dir('etc/data'), whiteout('etc/data/a'), dir('opq'), opaque('opq'), file('opq/z', 'z')],
    'zstd',
  );
  const additions = await buildLayer(
    [
      dir('etc/data'),
      file('etc/data/c', 'C from layer 3', { mode: 0o600, uid: 1000, gid: 1001 }),
      hardlink('etc/data/c-link', 'etc/data/c'),
      symlink('etc/data/b-link', 'b'),
      file('usr/local/bin/setuid', '#!/bin/sh\n', { mode: 0o4755 }),
    ],
    'none',
  );
  app = await pushImage(registry.address, 'crid/app', [base, deletions, additions], {
    tag: 'v1',
    config: { User: '1000:1001', WorkingDir: '/etc', Labels: { a: 'b' }, ExposedPorts: { '80/tcp': {} } },
  });
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('pull', () => {
  it('pulls by tag and records id, tags, digests, size and user', async () => {
    const images = await openService('by-tag');
    const image = await images.pull(`${registry.address}/crid/app:v1`);
    expect(image.id).toBe(app.configDigest);
    expect(image.repoTags).toEqual([`${registry.address}/crid/app:v1`]);
    expect(image.repoDigests).toEqual([`${registry.address}/crid/app@${app.manifestDigest}`]);
    expect(image.uid).toBe('1000');
    expect(image.config).toMatchObject({
      workingDir: '/etc',
      labels: { a: 'b' },
      exposedPorts: ['80/tcp'],
      cmd: ['/bin/sh'],
    });
    expect(image.layers).toHaveLength(3);
    expect(image.size).toBeGreaterThan(base.bytes.length);
    expect(images.getImage(image.id)).toBe(image);
    expect(images.getImage(digestHex(image.id))?.id).toBe(image.id);
    expect(images.getImage(`${registry.address}/crid/app@${app.manifestDigest}`)?.id).toBe(image.id);
    for (const l of image.layers)
      expect((await stat(images.snapshotter.layerPath(l.chainId))).isDirectory()).toBe(true);
  });

  it('pulls by digest without adding a tag', async () => {
    const images = await openService('by-digest');
    const image = await images.pull(`${registry.address}/crid/app@${app.manifestDigest}`);
    expect(image.id).toBe(app.configDigest);
    expect(image.repoTags).toEqual([]);
    expect(image.repoDigests).toEqual([`${registry.address}/crid/app@${app.manifestDigest}`]);
  });

  it('picks linux/amd64 out of an index with several platforms', async () => {
    const perPlatform = [];
    for (const platform of [
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 's390x' },
    ]) {
      const marker = await buildLayer([file('platform', platform.architecture)]);
      perPlatform.push({
        ...(await pushImage(registry.address, 'crid/multi', [base, marker], { platform })),
        platform,
      });
    }
    const indexDigest = await pushIndex(registry.address, 'crid/multi', 'latest', perPlatform);
    const images = await openService('index');
    const image = await images.pull(`${registry.address}/crid/multi`);
    expect(image.id).toBe(perPlatform[1]!.configDigest);
    expect(image.repoDigests).toEqual([`${registry.address}/crid/multi@${indexDigest}`]);
    expect(image.manifestDigest).toBe(perPlatform[1]!.manifestDigest);
  });

  it('pulls through a hosts.toml mirror over plain http', async () => {
    const configDir = join(work, 'certs.d');
    await mkdir(join(configDir, 'registry.example.invalid'), { recursive: true });
    await writeFile(
      join(configDir, 'registry.example.invalid', 'hosts.toml'),
      `server = "https://registry.example.invalid"\n[host."http://${registry.address}"]\n  capabilities = ["pull", "resolve"]\n`,
    );
    const images = await openService('mirror', configDir);
    const image = await images.pull('registry.example.invalid/crid/app:v1');
    expect(image.id).toBe(app.configDigest);
    expect(image.repoTags).toEqual(['registry.example.invalid/crid/app:v1']);
  });

  it('mounts a rootfs showing every layer with deletions applied', async () => {
    const images = await openService('rootfs');
    const image = await images.pull(`${registry.address}/crid/app:v1`);
    const mounts = images.prepareSnapshot('ctr1', image.id);
    expect(mounts).toEqual([
      {
        type: 'overlay',
        source: 'overlay',
        target: '',
        options: [
          expect.stringMatching(/^lowerdir=.+:.+:.+$/),
          expect.stringMatching(/^upperdir=/),
          expect.stringMatching(/^workdir=/),
        ],
      },
    ]);
    const rootfs = join(work, 'rootfs-mnt');
    await mkdir(rootfs);
    await images.snapshotter.mount('ctr1', rootfs);
    cleanups.push(() => images.snapshotter.unmount(rootfs));
    expect((await readdir(join(rootfs, 'etc/data'))).sort()).toEqual(['b', 'b-link', 'c', 'c-link']);
    expect((await readdir(join(rootfs, 'opq'))).sort()).toEqual(['z']);
    expect(await readFile(join(rootfs, 'etc/data/c'), 'utf8')).toBe('C from layer 3');
    expect(await readlink(join(rootfs, 'etc/data/b-link'))).toBe('b');
    const c = await stat(join(rootfs, 'etc/data/c'));
    expect({ mode: c.mode & 0o7777, uid: c.uid, gid: c.gid, nlink: c.nlink }).toEqual({
      mode: 0o600,
      uid: 1000,
      gid: 1001,
      nlink: 2,
    });
    expect((await stat(join(rootfs, 'usr/local/bin/setuid'))).mode & 0o7777).toBe(0o4755);
    expect((await stat(join(rootfs, 'tmp'))).mode & 0o7777).toBe(0o1777);
    const { stdout } = await execa('chroot', [rootfs, '/bin/busybox', 'cat', '/etc/data/b', '/etc/data/c']);
    expect(stdout).toBe('BC from layer 3');
    await writeFile(join(rootfs, 'new-file'), 'x'.repeat(10_000));
    await images.snapshotter.unmount(rootfs);
    cleanups.pop();
    const usage = await images.snapshotter.usage('ctr1');
    expect(usage.bytes).toBeGreaterThanOrEqual(10_000n);
    expect(usage.inodes).toBeGreaterThanOrEqual(2n);
    await images.snapshotter.remove('ctr1');
  });

  it('does the work of concurrent pulls of one image once', async () => {
    const big = await buildLayer([file('big', Buffer.alloc(4 << 20, 7))]);
    const pushed = await pushImage(registry.address, 'crid/shared', [base, big], { tag: 'v1' });
    await pushImage(registry.address, 'crid/shared', [base, big], { tag: 'v2', config: { Env: ['X=2'] } });
    const images = await openService('concurrent');
    const before = registry.requests().length;
    const [a, b, c] = await Promise.all([
      images.pull(`${registry.address}/crid/shared:v1`),
      images.pull(`${registry.address}/crid/shared:v1`),
      images.pull(`${registry.address}/crid/shared:v2`),
    ]);
    expect(a).toBe(b);
    expect(a.id).toBe(pushed.configDigest);
    expect(c.id).not.toBe(a.id);
    const gets = registry
      .requests()
      .slice(before)
      .filter((r) => r.startsWith('GET '));
    for (const layer of [base, big]) {
      expect(gets.filter((r) => r.endsWith(`/blobs/${layer.digest}`))).toHaveLength(1);
    }
    expect(gets.filter((r) => r.endsWith('/manifests/v1'))).toHaveLength(1);
  });

  it('lists the same images after a restart', async () => {
    const first = await openService('restart');
    const pulled = await first.pull(`${registry.address}/crid/app:v1`);
    const second = await openService('restart');
    expect(second.list()).toEqual(first.list());
    expect(second.getImage(`${registry.address}/crid/app:v1`)?.id).toBe(pulled.id);
  });

  it('ensureImage pulls only what is missing', async () => {
    const images = await openService('ensure');
    const first = await images.ensureImage(`${registry.address}/crid/app:v1`);
    const before = registry.requests().length;
    const again = await images.ensureImage(`${registry.address}/crid/app:v1`);
    expect(again.id).toBe(first.id);
    expect(registry.requests().length).toBe(before);
  });

  it('refuses an image whose layer escapes and leaves no layer behind', async () => {
    const evil = await buildLayer([symlink('escape', '../../../../../../tmp'), file('escape/crid-pwned', 'x')]);
    await pushImage(registry.address, 'crid/evil', [base, evil], { tag: 'v1' });
    const images = await openService('evil');
    await expect(images.pull(`${registry.address}/crid/evil:v1`)).rejects.toMatchObject({
      kind: 'InvalidArgument',
      message: expect.stringContaining('leads outside the layer'),
    });
    await expect(stat('/tmp/crid-pwned')).rejects.toThrow();
    expect(await readdir(join(images.snapshotter.root, 'tmp'))).toEqual([]);
    expect(images.list()).toEqual([]);
  });

  // Last: it moves crid/app:v1 in the registry.
  it('moves a tag to the new image on re-pull', async () => {
    const images = await openService('retag');
    const old = await images.pull(`${registry.address}/crid/app:v1`);
    const next = await pushImage(registry.address, 'crid/app', [base], { tag: 'v1' });
    const moved = await images.pull(`${registry.address}/crid/app:v1`);
    expect(moved.id).toBe(next.configDigest);
    expect(images.getImage(old.id)?.repoTags).toEqual([]);
    expect(images.getImage(old.id)?.repoDigests).toEqual([`${registry.address}/crid/app@${app.manifestDigest}`]);
  });
});
