// Reads an image archive as `ctr images import` does: an OCI image layout (index.json and
// blobs/sha256/<hex>, as `docker save` writes since Docker 25, buildah and skopeo) or a classic
// `docker save` tar (manifest.json, <id>.json, <id>/layer.tar), plain or gzip-compressed.
//
// The archive is read once, as a stream. Every file but the layout's small JSON files goes into the
// content store under the sha256 of its bytes, and a file named blobs/sha256/<hex> must have that
// digest. Nothing is written under a name from the archive, so no entry name can lead outside the
// store; layers are then unpacked as pulled ones are, with their diff_ids checked.
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { failedPrecondition, invalidArgument, wrap } from '../errors.ts';
import { sha256Of, type Digest } from '../reference/digest.ts';
import {
  imageLayers,
  manifestParts,
  parseJson,
  unpackStoredLayer,
  checkDescriptor,
  type Descriptor,
  type ImageConfigJson,
  type LayerStores,
  type ManifestJson,
  type StoredImage,
} from './manifest.ts';
import { INDEX_TYPES, MEDIA_TYPE } from './media-types.ts';
import { hostPlatform, selectPlatform, type Platform } from './platform.ts';
import { formatReference, parseNormalizedReference, type ImageReference } from '../reference/reference.ts';

/** The layout's own files, kept in memory; anything larger is not one. */
const METADATA_FILES = new Set(['index.json', 'oci-layout', 'manifest.json', 'repositories']);
const MAX_METADATA_BYTES = 4 << 20;
const BLOB_NAME = /^blobs\/sha256\/([a-f0-9]{64})$/;
/** containerd's export names each image with this annotation; OCI tools use ref.name. */
const IMAGE_NAME_ANNOTATION = 'io.containerd.image.name';
const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

export interface ArchiveImage extends StoredImage {
  names: ImageReference[];
}

interface ArchiveFiles {
  metadata: Map<string, Buffer>;
  /** Every other regular file: its digest in the content store. */
  blobs: Map<string, Digest>;
  /** Symlinks and hard links (classic `docker save` links repeated layers): name → target name. */
  links: Map<string, string>;
}

/** Imports every image of the archive `source` for `platform`; layers are unpacked into the snapshotter. */
export async function importArchive(
  stores: LayerStores,
  source: Readable,
  platform: Platform = hostPlatform(),
): Promise<ArchiveImage[]> {
  const files = await readArchive(stores, await decompressed(source));
  const images = files.metadata.has('index.json')
    ? await ociImages(stores, files, platform)
    : await dockerImages(stores, files);
  if (images.length === 0) throw invalidArgument('image archive lists no images');
  for (const image of images) {
    for (const layer of image.layers) await unpackStoredLayer(stores, layer, imageLabel(image));
  }
  return images;
}

function imageLabel(image: ArchiveImage): string {
  return image.names[0] !== undefined ? formatReference(image.names[0]) : image.configDigest;
}

/** The archive's bytes, gunzipped when it starts with gzip's magic number. */
async function decompressed(source: Readable): Promise<Readable> {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let first = await chunks.next();
  while (!first.done && first.value.length === 0) first = await chunks.next();
  if (first.done) throw invalidArgument('image archive is empty');
  const head: Buffer = first.value;
  const whole = Readable.from(
    (async function* () {
      yield head;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
    })(),
  );
  return head[0] === 0x1f && head[1] === 0x8b ? whole.compose(zlib.createGunzip()) : whole;
}

/** An entry's name without `./`; absolute names and `..` are refused, not rewritten. */
function entryName(raw: string): string {
  const parts = raw.split('/').filter((c) => c !== '' && c !== '.');
  if (raw.startsWith('/') || parts.includes('..') || raw.includes('\0')) {
    throw invalidArgument(`image archive entry ${JSON.stringify(raw)}: absolute name or ".." component`);
  }
  return parts.join('/');
}

async function readArchive(stores: LayerStores, source: Readable): Promise<ArchiveFiles> {
  const files: ArchiveFiles = { metadata: new Map(), blobs: new Map(), links: new Map() };
  const extract = tar.extract();
  // The source's own failure (a closed connection, bad gzip) is the one to report.
  let feedError: unknown;
  const feeding = pipeline(source, extract).catch((err: unknown) => {
    feedError = err;
  });
  try {
    for await (const entry of extract) {
      await readEntry(stores, files, entry.header, entry as AsyncIterable<Uint8Array>);
      entry.resume();
    }
    await feeding;
    if (feedError !== undefined) throw feedError;
  } catch (err) {
    const early = feedError;
    extract.destroy();
    await feeding;
    throw wrap(early ?? err, 'read image archive');
  }
  return files;
}

async function readEntry(
  stores: LayerStores,
  files: ArchiveFiles,
  header: tar.Header,
  body: AsyncIterable<Uint8Array>,
): Promise<void> {
  const name = entryName(header.name);
  if (header.type === 'symlink' || header.type === 'link') {
    // A symlink's target is relative to its directory, a hard link's to the archive's root.
    const target =
      header.type === 'symlink' ? posix.join(posix.dirname(name), header.linkname ?? '') : (header.linkname ?? '');
    files.links.set(name, entryName(target));
    return;
  }
  if (header.type !== 'file' && header.type !== 'contiguous-file') return;
  if (METADATA_FILES.has(name)) {
    if ((header.size ?? 0) > MAX_METADATA_BYTES)
      throw invalidArgument(`image archive entry ${name}: larger than ${MAX_METADATA_BYTES} bytes`);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(Buffer.from(chunk));
    files.metadata.set(name, Buffer.concat(chunks));
    return;
  }
  const named = BLOB_NAME.exec(name);
  const { digest } = await stores.content.ingestUnnamed(body, named ? `sha256:${named[1]}` : undefined);
  files.blobs.set(name, digest);
}

/** The digest of the file `name` refers to, through links. */
function fileDigest(files: ArchiveFiles, name: string, what: string): Digest {
  let current = entryName(name);
  for (let hops = 0; hops < 40 && files.links.has(current); hops++) current = files.links.get(current)!;
  const digest = files.blobs.get(current);
  if (digest === undefined)
    throw failedPrecondition(`image archive: ${what} ${JSON.stringify(name)} is not in the archive`);
  return digest;
}

/** A blob the layout refers to by descriptor is in the archive (or already stored) with the descriptor's size. */
async function checkBlob(stores: LayerStores, d: Descriptor, what: string): Promise<void> {
  const size = await stores.content.size(d.digest);
  if (size === undefined) throw failedPrecondition(`image archive: ${what} ${d.digest} is not in the archive`);
  if (size !== d.size)
    throw failedPrecondition(`image archive: ${what} ${d.digest} has ${size} bytes, its descriptor says ${d.size}`);
}

async function readBlob(stores: LayerStores, d: Descriptor, what: string): Promise<Buffer> {
  await checkBlob(stores, d, what);
  return stores.content.read(d.digest);
}

async function ociImages(stores: LayerStores, files: ArchiveFiles, platform: Platform): Promise<ArchiveImage[]> {
  const index = parseJson<ManifestJson>(files.metadata.get('index.json')!, 'image archive: index.json');
  const images: ArchiveImage[] = [];
  for (const [i, entry] of (index.manifests ?? []).entries()) {
    const top = checkDescriptor(entry, `image archive: index.json entry ${i}`);
    const names = imageNames(top.annotations ?? {});
    const label = names[0] !== undefined ? formatReference(names[0]) : top.digest;
    let manifest = {
      descriptor: top,
      json: parseJson<ManifestJson>(await readBlob(stores, top, 'manifest'), `image archive: manifest ${top.digest}`),
    };
    if (
      INDEX_TYPES.includes(top.mediaType) ||
      (manifest.json.manifests !== undefined && manifest.json.layers === undefined)
    ) {
      const chosen = checkDescriptor(
        selectPlatform(manifest.json.manifests ?? [], platform, label),
        `image archive: ${label} index entry`,
      );
      manifest = {
        descriptor: chosen,
        json: parseJson<ManifestJson>(
          await readBlob(stores, chosen, 'manifest'),
          `image archive: manifest ${chosen.digest}`,
        ),
      };
    }
    const parts = manifestParts(manifest.json, label);
    const config = parseJson<ImageConfigJson>(
      await readBlob(stores, parts.config, 'config'),
      `image archive: config ${parts.config.digest}`,
    );
    for (const l of parts.layers) await checkBlob(stores, l, 'layer');
    const layers = imageLayers(config, parts.layers, label);
    const size = manifest.descriptor.size + parts.config.size + layers.reduce((sum, l) => sum + l.size, 0);
    images.push({
      names,
      resolvedDigest: top.digest,
      manifestDigest: manifest.descriptor.digest,
      configDigest: parts.config.digest,
      config,
      layers,
      size,
    });
  }
  return images;
}

/**
 * The names an index entry gives its image: containerd's full name, else the OCI ref.name when it is
 * a reference (`pause:3.10`, `registry.k8s.io/pause:3.10`) rather than a bare tag (`3.10`).
 */
function imageNames(annotations: Record<string, string>): ImageReference[] {
  const full = annotations[IMAGE_NAME_ANNOTATION];
  if (full !== undefined) return [parseName(full)];
  const ref = annotations[REF_NAME_ANNOTATION];
  if (ref !== undefined && /[:/@]/.test(ref)) return [parseName(ref)];
  return [];
}

function parseName(name: string): ImageReference {
  try {
    return parseNormalizedReference(name);
  } catch (err) {
    throw wrap(err, 'image archive: image name');
  }
}

interface DockerManifestEntry {
  Config?: string;
  RepoTags?: string[] | null;
  Layers?: string[];
}

/** Classic `docker save`: manifest.json names each image's config and layer files; the manifest is made here. */
async function dockerImages(stores: LayerStores, files: ArchiveFiles): Promise<ArchiveImage[]> {
  const list = files.metadata.get('manifest.json');
  if (list === undefined)
    throw invalidArgument(
      'not an image archive: it has neither index.json (OCI image layout) nor manifest.json (docker save)',
    );
  const entries = parseJson<DockerManifestEntry[]>(list, 'image archive: manifest.json');
  if (!Array.isArray(entries)) throw failedPrecondition('image archive: manifest.json is not a list');
  const images: ArchiveImage[] = [];
  for (const entry of entries) {
    if (typeof entry.Config !== 'string' || !Array.isArray(entry.Layers))
      throw failedPrecondition('image archive: a manifest.json entry lacks Config or Layers');
    const names = (entry.RepoTags ?? []).map(parseName);
    const label = names[0] !== undefined ? formatReference(names[0]) : entry.Config;
    const configDigest = fileDigest(files, entry.Config, 'config');
    const configBytes = await stores.content.read(configDigest);
    const config = parseJson<ImageConfigJson>(configBytes, `image archive: config ${entry.Config}`);
    const layerDescs: Descriptor[] = [];
    for (const layer of entry.Layers) {
      const digest = fileDigest(files, layer, 'layer');
      layerDescs.push({
        mediaType: await dockerLayerType(stores, digest),
        digest,
        size: (await stores.content.size(digest))!,
      });
    }
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPE.dockerManifest,
        config: { mediaType: MEDIA_TYPE.dockerConfig, digest: configDigest, size: configBytes.length },
        layers: layerDescs.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
      }),
    );
    const manifestDigest = sha256Of(manifest);
    await stores.content.writeBytes(manifestDigest, manifest);
    const layers = imageLayers(config, layerDescs, label);
    const size = manifest.length + configBytes.length + layers.reduce((sum, l) => sum + l.size, 0);
    images.push({ names, resolvedDigest: manifestDigest, manifestDigest, configDigest, config, layers, size });
  }
  return images;
}

/** `docker save` writes layers uncompressed; a gzip one (an older save, or by hand) is typed as such. */
async function dockerLayerType(stores: LayerStores, digest: Digest): Promise<string> {
  const stream = stores.content.open(digest);
  try {
    for await (const chunk of stream) {
      const head = chunk as Buffer;
      return head[0] === 0x1f && head[1] === 0x8b ? MEDIA_TYPE.dockerLayerGzip : MEDIA_TYPE.dockerLayer;
    }
    return MEDIA_TYPE.dockerLayer;
  } finally {
    stream.destroy();
  }
}
