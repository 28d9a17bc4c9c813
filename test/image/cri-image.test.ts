// The CRI ImageService handlers over a real registry: pull, list with filter, status (verbose),
// remove by tag / id / digest with garbage collection, in-use refusal, fs info, and a corrupt blob.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageServiceRpcs } from '../../src/cri/image/index.ts';
import { ImageService } from '../../src/image/image-service.ts';
import { digestHex } from '../../src/reference/digest.ts';
import { silentLogger } from '../../src/log.ts';
import type { RpcContext, UnaryHandler } from '../../src/server/rpc.ts';
import type { ImageFsInfoResponse__Output as ImageFsInfoResponse } from '../../src/generated/runtime/v1/ImageFsInfoResponse.ts';
import type { ImageStatusResponse__Output as ImageStatusResponse } from '../../src/generated/runtime/v1/ImageStatusResponse.ts';
import type { ListImagesResponse__Output as ListImagesResponse } from '../../src/generated/runtime/v1/ListImagesResponse.ts';
import type { PullImageResponse__Output as PullImageResponse } from '../../src/generated/runtime/v1/PullImageResponse.ts';
import type { RemoveImageResponse__Output as RemoveImageResponse } from '../../src/generated/runtime/v1/RemoveImageResponse.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';
import { buildLayer, busyboxEntries, file, pushImage, type PushedImage } from '../helpers/image-builder.ts';

let registry: TestRegistry;
let work: string;
let images: ImageService;
let app: PushedImage;
interface Responses {
  PullImage: PullImageResponse;
  ListImages: ListImagesResponse;
  ImageStatus: ImageStatusResponse;
  RemoveImage: RemoveImageResponse;
  ImageFsInfo: ImageFsInfoResponse;
}
let call: <R extends keyof Responses>(rpc: R, req: unknown) => Promise<Responses[R]>;
const ctx: RpcContext = { log: silentLogger, signal: new AbortController().signal };
const spec = (image: string) => ({
  image: { image, annotations: {}, user_specified_image: '', runtime_handler: '', image_ref: '' },
});

beforeAll(async () => {
  registry = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'crid-cri-image-'));
  const base = await buildLayer(await busyboxEntries());
  const top = await buildLayer([file('hello', 'hi')], 'zstd');
  app = await pushImage(registry.address, 'crid/app', [base, top], { tag: 'v1', config: { User: 'nobody' } });
  await pushImage(registry.address, 'crid/app', [base, top], { tag: 'v2', config: { User: 'nobody' } });
  await pushImage(registry.address, 'crid/pause', [base], { tag: '3.9' });
  images = await ImageService.open({
    root: work,
    registryConfigPath: '',
    log: silentLogger,
    pinnedImages: [`${registry.address}/crid/pause:3.9`],
  });
  const handlers = imageServiceRpcs({ images, released: () => {}, log: silentLogger });
  call = <R extends keyof Responses>(rpc: R, req: unknown) =>
    (handlers[rpc] as UnaryHandler<unknown, Responses[R]>)(req, ctx);
});

afterAll(async () => {
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('ImageService RPCs', () => {
  it('PullImage returns the image id; ListImages and ImageStatus report it', async () => {
    const ref = `${registry.address}/crid/app:v1`;
    const pulled = await call('PullImage', { ...spec(ref), auth: null, sandbox_config: null });
    expect(pulled).toEqual({ image_ref: app.configDigest });
    await call('PullImage', { ...spec(`${registry.address}/crid/app:v2`), auth: null, sandbox_config: null });
    await call('PullImage', { ...spec(`${registry.address}/crid/pause:3.9`), auth: null, sandbox_config: null });

    const all = await call('ListImages', { filter: null });
    expect(all.images).toHaveLength(2);
    const filtered = await call('ListImages', { filter: spec(ref) });
    expect(filtered.images).toEqual([
      {
        id: app.configDigest,
        repo_tags: [ref, `${registry.address}/crid/app:v2`],
        repo_digests: [`${registry.address}/crid/app@${app.manifestDigest}`], // v1 and v2 are the same manifest
        size: expect.stringMatching(/^\d+$/),
        uid: null,
        username: 'nobody',
        spec: { image: app.configDigest, annotations: {} },
        pinned: false,
      },
    ]);
    expect((await call('ListImages', { filter: spec('nothing/here') })).images).toEqual([]);

    const status = await call('ImageStatus', { ...spec(app.configDigest), verbose: true });
    expect(status.image?.repo_tags).toContain(ref);
    const info = JSON.parse(status.info.info);
    expect(info.imageSpec.config.User).toBe('nobody');
    expect(info.chainID).toMatch(/^sha256:/);
    expect(await call('ImageStatus', { ...spec('crid/absent:1'), verbose: false })).toEqual({ image: null, info: {} });
    const byPrefix = await call('ImageStatus', { ...spec(digestHex(app.configDigest).slice(0, 12)), verbose: false });
    expect(byPrefix.image?.id).toBe(app.configDigest);
    const byFullPrefix = await call('ImageStatus', { ...spec(app.configDigest.slice(0, 19)), verbose: false });
    expect(byFullPrefix.image?.id).toBe(app.configDigest);

    const pause = await call('ImageStatus', { ...spec(`${registry.address}/crid/pause:3.9`), verbose: false });
    expect(pause.image?.pinned).toBe(true);
  });

  it('ImageFsInfo reports bytes and inodes of the image store', async () => {
    const res = await call('ImageFsInfo', {});
    expect(res.image_filesystems).toHaveLength(1);
    const fs = res.image_filesystems[0];
    expect(fs.fs_id?.mountpoint).toBe(join(work, 'snapshots'));
    expect(BigInt(fs.used_bytes!.value)).toBeGreaterThan(1_000_000n);
    expect(BigInt(fs.inodes_used!.value)).toBeGreaterThan(5n);
    expect(BigInt(fs.timestamp)).toBeGreaterThan(1_700_000_000_000_000_000n);
  });

  it('RemoveImage untags, refuses pinned images, then removes and collects layers', async () => {
    await call('RemoveImage', spec(`${registry.address}/crid/app:v2`));
    expect(images.getImage(app.configDigest)?.repoTags).toEqual([`${registry.address}/crid/app:v1`]);

    await expect(call('RemoveImage', spec(`${registry.address}/crid/pause:3.9`))).rejects.toMatchObject({
      kind: 'FailedPrecondition',
    });

    const layersBefore = await readdir(join(work, 'snapshots/layers'));
    await call('RemoveImage', spec(digestHex(app.configDigest).slice(0, 12)));
    expect(images.getImage(app.configDigest)).toBeUndefined();
    expect((await call('ListImages', { filter: null })).images).toHaveLength(1);
    const layersAfter = await readdir(join(work, 'snapshots/layers'));
    expect(layersAfter.length).toBe(layersBefore.length - 1); // the base layer is still the pause image's
    await expect(readFile(images.content.path(app.configDigest))).rejects.toThrow();
    await call('RemoveImage', spec(app.configDigest)); // already gone: no error
  });

  it('rejects a blob whose bytes do not match its digest and stores nothing', async () => {
    const layer = await buildLayer([file('payload', 'the real bytes')]);
    const pushed = await pushImage(registry.address, 'crid/corrupt', [layer], { tag: 'v1' });
    const data = join(
      registry.storage,
      'docker/registry/v2/blobs/sha256',
      digestHex(layer.digest).slice(0, 2),
      digestHex(layer.digest),
      'data',
    );
    const bytes = await readFile(data);
    bytes[bytes.length - 20] ^= 0xff;
    await writeFile(data, bytes);
    await expect(
      call('PullImage', { ...spec(`${registry.address}/crid/corrupt:v1`), auth: null, sandbox_config: null }),
    ).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringContaining(`blob ${layer.digest}: content has digest`),
    });
    await expect(readFile(images.content.path(layer.digest))).rejects.toThrow();
    expect(await readdir(join(work, 'content/ingest'))).toEqual([]);
    expect(images.getImage(pushed.configDigest)).toBeUndefined();
  });
});
