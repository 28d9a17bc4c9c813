// What pulls and archive imports share once the blobs are at hand: the JSON shapes of manifests and
// configs, their checks, and unpacking a stored layer blob into its snapshot with its diff_id verified.
import { failedPrecondition } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ContentStore } from './content-store.ts';
import { chainIds, parseDigest, type Digest } from '../reference/digest.ts';
import type { ImageLayer } from './image-store.ts';
import { LAYER_TYPES } from './media-types.ts';
import type { Platform } from './platform.ts';
import type { Snapshotter } from './snapshotter.ts';
import { unpackLayer } from './unpack.ts';

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface ManifestJson {
  schemaVersion?: number;
  mediaType?: string;
  manifests?: Descriptor[];
  config?: Descriptor;
  layers?: Descriptor[];
}

export interface ImageConfigJson {
  config?: {
    User?: string;
    Env?: string[] | null;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    StopSignal?: string;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, unknown> | null;
    Volumes?: Record<string, unknown> | null;
  };
  rootfs?: { type?: string; diff_ids?: string[] };
}

/** An image whose manifest, config and layers are all in the content store and unpacked. */
export interface StoredImage {
  /** What the name resolved to: the index digest for multi-platform images. */
  resolvedDigest: Digest;
  manifestDigest: Digest;
  configDigest: Digest;
  config: ImageConfigJson;
  layers: ImageLayer[];
  size: number;
}

export function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (err) {
    throw failedPrecondition(`${what} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function checkDescriptor(d: Descriptor | undefined, what: string): Descriptor {
  if (d === undefined || typeof d.size !== 'number' || d.size < 0)
    throw failedPrecondition(`${what}: missing or bad descriptor`);
  return { ...d, digest: parseDigest(d.digest, `${what} digest`) };
}

/** A platform manifest's config and layer descriptors, each checked; layers of a type crid unpacks. */
export function manifestParts(manifest: ManifestJson, name: string): { config: Descriptor; layers: Descriptor[] } {
  const config = checkDescriptor(manifest.config, `${name}: config`);
  const layers = (manifest.layers ?? []).map((l, i) => checkDescriptor(l, `${name}: layer ${i}`));
  for (const l of layers) {
    if (!LAYER_TYPES.includes(l.mediaType))
      throw failedPrecondition(`${name}: layer ${l.digest} has unsupported media type ${l.mediaType}`);
  }
  return { config, layers };
}

/** The layers with the diff_ids the config lists for them and their chain ids. */
export function imageLayers(config: ImageConfigJson, layers: Descriptor[], name: string): ImageLayer[] {
  const diffIds = (config.rootfs?.diff_ids ?? []).map((d) => parseDigest(d, `${name}: diff_id`));
  if (diffIds.length !== layers.length)
    throw failedPrecondition(`${name}: config lists ${diffIds.length} diff_ids for ${layers.length} layers`);
  if (layers.length === 0) throw failedPrecondition(`${name}: image has no layers`);
  const chains = chainIds(diffIds);
  return layers.map((d, i) => ({
    digest: d.digest,
    mediaType: d.mediaType,
    size: d.size,
    diffId: diffIds[i]!,
    chainId: chains[i]!,
  }));
}

export interface LayerStores {
  content: ContentStore;
  snapshotter: Snapshotter;
  log: Logger;
}

/** Unpacks a layer whose blob is in the content store, once; its uncompressed digest must be its diff_id. */
export async function unpackStoredLayer(stores: LayerStores, layer: ImageLayer, name: string): Promise<void> {
  await stores.snapshotter.ensureLayer(layer.chainId, async (dir) => {
    const result = await unpackLayer(stores.content.path(layer.digest), dir, stores.log);
    if (result.diffId !== layer.diffId) {
      throw failedPrecondition(
        `${name}: layer ${layer.digest} unpacks to ${result.diffId}, the config says ${layer.diffId}`,
      );
    }
  });
}
