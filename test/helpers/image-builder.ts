// Builds OCI images for tests from busybox-static: layers written with tar-stream and compressed
// here (gzip, zstd or none), pushed to a test registry with crid's own registry client.
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import type { AuthConfig__Output } from '../../src/generated/runtime/v1/AuthConfig.ts';
import { sha256Of, type Digest } from '../../src/reference/digest.ts';
import { defaultRegistryHost } from '../../src/image/hosts-config.ts';
import { MEDIA_TYPE } from '../../src/image/media-types.ts';
import type { Platform } from '../../src/image/platform.ts';
import { RegistryClient } from '../../src/image/registry-client.ts';
import { silentLogger } from '../../src/log.ts';

export type Compression = 'gzip' | 'zstd' | 'none';

export interface LayerEntry {
  header: Partial<tar.Header> & { name: string };
  body?: string | Buffer;
}

export interface BuiltLayer {
  bytes: Buffer;
  digest: Digest;
  diffId: Digest;
  mediaType: string;
}

export interface PushedImage {
  manifestDigest: Digest;
  manifestSize: number;
  configDigest: Digest;
}

const gzip = promisify(zlib.gzip);
const zstd = promisify(zlib.zstdCompress);

export function file(name: string, body: string | Buffer, header: Partial<tar.Header> = {}): LayerEntry {
  return { header: { name, type: 'file', mode: 0o644, ...header }, body };
}
export function dir(name: string, header: Partial<tar.Header> = {}): LayerEntry {
  return { header: { name, type: 'directory', mode: 0o755, ...header } };
}
export function symlink(name: string, linkname: string): LayerEntry {
  return { header: { name, type: 'symlink', linkname, mode: 0o777 } };
}
export function hardlink(name: string, linkname: string): LayerEntry {
  return { header: { name, type: 'link', linkname } };
}
/** `.wh.<base>` next to `path`: deletes `path` of lower layers. */
export function whiteout(path: string): LayerEntry {
  const slash = path.lastIndexOf('/');
  return file(`${path.slice(0, slash + 1)}.wh.${path.slice(slash + 1)}`, '');
}
export function opaque(dirPath: string): LayerEntry {
  return file(`${dirPath}/.wh..wh..opq`, '');
}

export async function tarOf(entries: LayerEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack) chunks.push(Buffer.from(chunk as Uint8Array));
  })();
  for (const e of entries) {
    const body = e.body === undefined ? undefined : Buffer.from(e.body);
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body === undefined) pack.entry({ mtime: new Date(1_700_000_000_000), ...e.header }, cb);
      else pack.entry({ mtime: new Date(1_700_000_000_000), ...e.header, size: body.length }, body, cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export async function buildLayer(entries: LayerEntry[], compression: Compression = 'gzip'): Promise<BuiltLayer> {
  return compressLayer(await tarOf(entries), compression);
}

export async function compressLayer(raw: Buffer, compression: Compression): Promise<BuiltLayer> {
  const bytes = compression === 'gzip' ? await gzip(raw) : compression === 'zstd' ? await zstd(raw) : raw;
  const mediaType =
    compression === 'gzip'
      ? MEDIA_TYPE.ociLayerGzip
      : compression === 'zstd'
        ? MEDIA_TYPE.ociLayerZstd
        : MEDIA_TYPE.ociLayer;
  return { bytes, digest: sha256Of(bytes), diffId: sha256Of(raw), mediaType };
}

/** busybox-static as /bin/busybox with /bin/sh, plus /etc/passwd and /tmp. */
export async function busyboxEntries(): Promise<LayerEntry[]> {
  const busybox = await readFile('/bin/busybox');
  return [
    dir('bin'),
    file('bin/busybox', busybox, { mode: 0o755 }),
    symlink('bin/sh', 'busybox'),
    dir('etc'),
    file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n'),
    dir('tmp', { mode: 0o1777 }),
  ];
}

export function registryClient(
  address: string,
  repository: string,
  auth?: Partial<AuthConfig__Output>,
): RegistryClient {
  const fullAuth = auth && {
    username: '',
    password: '',
    auth: '',
    server_address: '',
    identity_token: '',
    registry_token: '',
    ...auth,
  };
  return new RegistryClient({
    domain: address,
    repository,
    hosts: [defaultRegistryHost(address)],
    auth: fullAuth,
    log: silentLogger,
  });
}

export interface ImageOptions {
  platform?: Platform;
  config?: Record<string, unknown>;
  auth?: Partial<AuthConfig__Output>;
  /** Push under this tag; without it the manifest is pushed by digest only. */
  tag?: string;
}

/** Pushes layers, a config and an OCI manifest to `<address>/<repository>`. */
export async function pushImage(
  address: string,
  repository: string,
  layers: BuiltLayer[],
  opts: ImageOptions = {},
): Promise<PushedImage> {
  const client = registryClient(address, repository, opts.auth);
  const platform = opts.platform ?? { os: 'linux', architecture: 'amd64' };
  const config = imageConfig(layers, { Cmd: ['/bin/sh'], ...opts.config }, platform);
  const configDigest = sha256Of(config);
  for (const l of layers) await client.pushBlob(l.digest, l.bytes);
  await client.pushBlob(configDigest, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.ociManifest,
      config: { mediaType: MEDIA_TYPE.ociConfig, digest: configDigest, size: config.length },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.bytes.length })),
    }),
  );
  const manifestDigest = sha256Of(manifest);
  await client.pushManifest(opts.tag ?? manifestDigest, MEDIA_TYPE.ociManifest, manifest);
  return { manifestDigest, manifestSize: manifest.length, configDigest };
}

/** Pushes an OCI index over already pushed per-platform manifests. */
export async function pushIndex(
  address: string,
  repository: string,
  tag: string,
  manifests: Array<PushedImage & { platform: Platform }>,
): Promise<Digest> {
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.ociIndex,
      manifests: manifests.map((m) => ({
        mediaType: MEDIA_TYPE.ociManifest,
        digest: m.manifestDigest,
        size: m.manifestSize,
        platform: m.platform,
      })),
    }),
  );
  await registryClient(address, repository).pushManifest(tag, MEDIA_TYPE.ociIndex, index);
  return sha256Of(index);
}

export interface ArchiveImageSpec {
  layers: BuiltLayer[];
  config?: Record<string, unknown>;
  /** The index entry's annotations (io.containerd.image.name, org.opencontainers.image.ref.name). */
  annotations?: Record<string, string>;
  platform?: Platform;
}

/** The config blob of an image over `layers`. */
export function imageConfig(
  layers: BuiltLayer[],
  config: Record<string, unknown> = {},
  platform: Platform = { os: 'linux', architecture: 'amd64' },
): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant && { variant: platform.variant }),
      config: { Env: ['PATH=/bin'], ...config },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    }),
  );
}

/** An OCI image layout as a tar (what `docker save` writes since Docker 25, or skopeo copy oci-archive:). */
export async function ociArchive(images: ArchiveImageSpec[], extra: LayerEntry[] = []): Promise<Buffer> {
  const blobs = new Map<Digest, Buffer>();
  const add = (bytes: Buffer) => {
    const digest = sha256Of(bytes);
    blobs.set(digest, bytes);
    return { digest, size: bytes.length };
  };
  const manifests = images.map((image) => {
    for (const l of image.layers) add(l.bytes);
    const config = add(imageConfig(image.layers, image.config, image.platform));
    const manifest = add(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_TYPE.ociManifest,
          config: { mediaType: MEDIA_TYPE.ociConfig, ...config },
          layers: image.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.bytes.length })),
        }),
      ),
    );
    return {
      mediaType: MEDIA_TYPE.ociManifest,
      ...manifest,
      ...(image.annotations && { annotations: image.annotations }),
    };
  });
  const index = { schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests };
  return tarOf([
    file('oci-layout', '{"imageLayoutVersion":"1.0.0"}'),
    file('index.json', JSON.stringify(index)),
    dir('blobs'),
    dir('blobs/sha256'),
    ...[...blobs].map(([digest, bytes]) => file(`blobs/sha256/${digest.slice('sha256:'.length)}`, bytes)),
    ...extra,
  ]);
}

/** A pause image archive: Debian's catatonit (package catatonit) as /pause, as critest's pause image here. */
export async function pauseArchive(name: string): Promise<Buffer> {
  const layer = await buildLayer([file('pause', await readFile('/usr/bin/catatonit'), { mode: 0o755 })]);
  return ociArchive([
    {
      layers: [layer],
      config: { Entrypoint: ['/pause', '-P'], Cmd: null, User: '65535:65535' },
      annotations: { 'io.containerd.image.name': name },
    },
  ]);
}
