// Image archives imported into a temp crid root: an OCI image layout, a classic `docker save` tar,
// gzip-compressed archives, and archives that must be refused without storing anything.
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageService } from '../../src/image/image-service.ts';
import { sha256Of } from '../../src/reference/digest.ts';
import { MEDIA_TYPE } from '../../src/image/media-types.ts';
import { silentLogger } from '../../src/log.ts';
import {
  buildLayer,
  dir,
  file,
  imageConfig,
  ociArchive,
  symlink,
  tarOf,
  type BuiltLayer,
} from '../helpers/image-builder.ts';

let work: string;
let base: BuiltLayer;
let app: BuiltLayer;
let count = 0;

async function openService(): Promise<ImageService> {
  return ImageService.open({
    root: join(work, `root-${count++}`),
    registryConfigPath: '',
    log: silentLogger,
    platform: { os: 'linux', architecture: 'amd64' },
  });
}

const fromBuffer = (bytes: Buffer) => Readable.from([bytes]);

async function layerFile(images: ImageService, chainId: string, path: string): Promise<string> {
  return readFile(join(images.snapshotter.layerPath(chainId as `sha256:${string}`), path), 'utf8');
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'crid-import-'));
  base = await buildLayer([dir('etc'), file('etc/os-release', 'ID=test\n')], 'gzip');
  app = await buildLayer([dir('app'), file('app/run', '#!/bin/sh\n', { mode: 0o755 })], 'none');
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('image archive import', () => {
  it('imports an OCI image layout under the name its index gives, with every layer unpacked', async () => {
    const images = await openService();
    const archive = await ociArchive([
      {
        layers: [base, app],
        config: { Cmd: ['/app/run'], User: '1000' },
        annotations: {
          'io.containerd.image.name': 'registry.k8s.io/pause:3.10',
          'org.opencontainers.image.ref.name': '3.10',
        },
      },
      { layers: [base], annotations: { 'org.opencontainers.image.ref.name': 'example.com/base:v1' } },
    ]);
    const [pause, second] = await images.importArchive(fromBuffer(archive));
    expect(pause!.repoTags).toEqual(['registry.k8s.io/pause:3.10']);
    expect(pause!.repoDigests).toEqual([expect.stringMatching(/^registry\.k8s\.io\/pause@sha256:[a-f0-9]{64}$/)]);
    expect(pause!.config).toMatchObject({ cmd: ['/app/run'] });
    expect(pause!.uid).toBe('1000');
    expect(images.getImage('registry.k8s.io/pause:3.10')?.id).toBe(pause!.id);
    expect(await layerFile(images, pause!.layers[0]!.chainId, 'etc/os-release')).toBe('ID=test\n');
    expect(await layerFile(images, pause!.layers[1]!.chainId, 'app/run')).toBe('#!/bin/sh\n');
    expect(second!.repoTags).toEqual(['example.com/base:v1']);
    // The second image's only layer is the first one's bottom layer: unpacked once.
    expect(second!.layers[0]!.chainId).toBe(pause!.layers[0]!.chainId);
  });

  it('imports a gzip-compressed archive, and a name moves to the image imported last', async () => {
    const images = await openService();
    const name = { 'io.containerd.image.name': 'example.com/app:latest' };
    const first = (
      await images.importArchive(fromBuffer(gzipSync(await ociArchive([{ layers: [base], annotations: name }]))))
    )[0]!;
    const second = (
      await images.importArchive(fromBuffer(await ociArchive([{ layers: [base, app], annotations: name }])))
    )[0]!;
    expect(images.getImage('example.com/app:latest')?.id).toBe(second.id);
    expect(images.getImage(first.id)?.repoTags).toEqual([]);
  });

  it('picks the node platform from an image index inside the layout', async () => {
    const images = await openService();
    const amd64 = imageConfig([base], { Cmd: ['amd64'] });
    const arm64 = imageConfig([app], { Cmd: ['arm64'] }, { os: 'linux', architecture: 'arm64' });
    const manifestOf = (config: Buffer, layer: BuiltLayer) =>
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_TYPE.ociManifest,
          config: { mediaType: MEDIA_TYPE.ociConfig, digest: sha256Of(config), size: config.length },
          layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.bytes.length }],
        }),
      );
    const manifests = [manifestOf(arm64, app), manifestOf(amd64, base)];
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPE.ociIndex,
        manifests: manifests.map((m, i) => ({
          mediaType: MEDIA_TYPE.ociManifest,
          digest: sha256Of(m),
          size: m.length,
          platform: { os: 'linux', architecture: i === 0 ? 'arm64' : 'amd64' },
        })),
      }),
    );
    const blob = (bytes: Buffer) => file(`blobs/sha256/${sha256Of(bytes).slice(7)}`, bytes);
    const archive = await tarOf([
      file(
        'index.json',
        JSON.stringify({
          schemaVersion: 2,
          manifests: [
            {
              mediaType: MEDIA_TYPE.ociIndex,
              digest: sha256Of(index),
              size: index.length,
              annotations: { 'io.containerd.image.name': 'example.com/multi:1' },
            },
          ],
        }),
      ),
      ...[index, ...manifests, amd64, arm64, base.bytes, app.bytes].map(blob),
    ]);
    const [image] = await images.importArchive(fromBuffer(archive));
    expect(image!.config.cmd).toEqual(['amd64']);
    expect(image!.repoDigests).toEqual([`example.com/multi@${sha256Of(index)}`]);
    expect(image!.manifestDigest).toBe(sha256Of(manifests[1]!));
  });

  it('imports a classic `docker save` tar: RepoTags, <id>.json config, uncompressed layer.tar files and a linked repeat', async () => {
    const images = await openService();
    const raw = await buildLayer([dir('bin'), file('bin/hello', 'hi\n', { mode: 0o755 })], 'none');
    const config = imageConfig([raw, raw], { Cmd: ['/bin/hello'] });
    const configName = `${sha256Of(config).slice(7)}.json`;
    const archive = await tarOf([
      file(
        'manifest.json',
        JSON.stringify([{ Config: configName, RepoTags: ['hello:v2'], Layers: ['aaa/layer.tar', 'bbb/layer.tar'] }]),
      ),
      file(configName, config),
      dir('aaa'),
      file('aaa/layer.tar', raw.bytes),
      file('aaa/VERSION', '1.0'),
      dir('bbb'),
      symlink('bbb/layer.tar', '../aaa/layer.tar'),
    ]);
    const [image] = await images.importArchive(fromBuffer(archive));
    expect(image!.id).toBe(sha256Of(config));
    expect(image!.repoTags).toEqual(['docker.io/library/hello:v2']);
    expect(images.getImage('hello:v2')?.id).toBe(image!.id);
    expect(image!.layers.map((l) => [l.digest, l.mediaType])).toEqual([
      [raw.digest, MEDIA_TYPE.dockerLayer],
      [raw.digest, MEDIA_TYPE.dockerLayer],
    ]);
    const manifest = JSON.parse((await images.content.read(image!.manifestDigest)).toString('utf8'));
    expect(manifest).toMatchObject({ mediaType: MEDIA_TYPE.dockerManifest, config: { digest: sha256Of(config) } });
    expect(await layerFile(images, image!.layers[0]!.chainId, 'bin/hello')).toBe('hi\n');
    // aaa/VERSION belongs to no image: not kept.
    expect((await images.content.list()).sort()).toEqual([image!.id, image!.manifestDigest, raw.digest].sort());
  });

  describe('refuses, keeping nothing,', () => {
    async function refused(archive: Buffer) {
      const images = await openService();
      const err = await images.importArchive(fromBuffer(archive)).catch((e: unknown) => e);
      expect(images.list()).toEqual([]);
      expect(await images.content.list()).toEqual([]);
      expect(await readdir(join(images.snapshotter.root, 'layers'))).toEqual([]);
      return err as { kind: string; message: string };
    }

    it('a blob whose bytes do not have the digest it is named by', async () => {
      const archive = await ociArchive(
        [{ layers: [base], annotations: { 'io.containerd.image.name': 'example.com/x:1' } }],
        [file(`blobs/sha256/${'0'.repeat(64)}`, 'not what the name says')],
      );
      const err = await refused(archive);
      expect(err).toMatchObject({ kind: 'FailedPrecondition' });
      expect(err.message).toContain(
        `blob sha256:${'0'.repeat(64)}: content has digest ${sha256Of('not what the name says')}`,
      );
    });

    it('an entry whose name leads outside the archive, before writing it anywhere', async () => {
      const outside = join(work, `escaped-${process.pid}`);
      const archive = await tarOf([
        file(`../../../../../../..${outside}`, 'x'),
        file('index.json', '{"manifests":[]}'),
      ]);
      const err = await refused(archive);
      expect(err).toMatchObject({ kind: 'InvalidArgument' });
      expect(err.message).toContain('absolute name or ".." component');
      await expect(stat(outside)).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('a layer whose content is not the diff_id its config lists', async () => {
      const wrongConfig = imageConfig([app]);
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          config: { mediaType: MEDIA_TYPE.ociConfig, digest: sha256Of(wrongConfig), size: wrongConfig.length },
          layers: [{ mediaType: base.mediaType, digest: base.digest, size: base.bytes.length }],
        }),
      );
      const blob = (bytes: Buffer) => file(`blobs/sha256/${sha256Of(bytes).slice(7)}`, bytes);
      const err = await refused(
        await tarOf([
          file(
            'index.json',
            JSON.stringify({
              manifests: [{ mediaType: MEDIA_TYPE.ociManifest, digest: sha256Of(manifest), size: manifest.length }],
            }),
          ),
          blob(manifest),
          blob(wrongConfig),
          blob(base.bytes),
        ]),
      );
      expect(err.message).toContain(`layer ${base.digest} unpacks to ${base.diffId}, the config says ${app.diffId}`);
    });

    it('a layer the manifest lists but the archive lacks', async () => {
      const config = imageConfig([base]);
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          config: { mediaType: MEDIA_TYPE.ociConfig, digest: sha256Of(config), size: config.length },
          layers: [{ mediaType: base.mediaType, digest: base.digest, size: base.bytes.length }],
        }),
      );
      const blob = (bytes: Buffer) => file(`blobs/sha256/${sha256Of(bytes).slice(7)}`, bytes);
      const err = await refused(
        await tarOf([
          file(
            'index.json',
            JSON.stringify({
              manifests: [{ mediaType: MEDIA_TYPE.ociManifest, digest: sha256Of(manifest), size: manifest.length }],
            }),
          ),
          blob(manifest),
          blob(config),
        ]),
      );
      expect(err.message).toContain(`layer ${base.digest} is not in the archive`);
    });

    it('an empty archive, and one whose stream fails half-way (plain or gzip)', async () => {
      expect(await refused(Buffer.alloc(0))).toMatchObject({
        kind: 'InvalidArgument',
        message: 'image archive is empty',
      });
      const archive = await ociArchive([
        { layers: [base, app], annotations: { 'io.containerd.image.name': 'example.com/x:1' } },
      ]);
      for (const bytes of [archive, gzipSync(archive)]) {
        const images = await openService();
        const broken = Readable.from(
          (async function* () {
            yield bytes.subarray(0, bytes.length >> 1);
            throw new Error('connection reset');
          })(),
        );
        await expect(images.importArchive(broken)).rejects.toThrow('connection reset');
        expect(images.list()).toEqual([]);
        expect(await images.content.list()).toEqual([]);
      }
    });

    it('a tar that is not an image archive', async () => {
      const err = await refused(await tarOf([file('README', 'hello')]));
      expect(err).toMatchObject({ kind: 'InvalidArgument' });
      expect(err.message).toContain('neither index.json (OCI image layout) nor manifest.json (docker save)');
    });
  });
});
