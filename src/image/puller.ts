// Pulling one image: resolve the reference, pick the node's platform from an index, fetch and
// verify config and layers (bounded concurrency, shared with concurrent pulls), unpack each layer once.
import type { AuthConfig__Output } from '../generated/runtime/v1/AuthConfig.ts';
import { failedPrecondition, wrap } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ContentStore } from './content-store.ts';
import { sha256Of, type Digest } from '../reference/digest.ts';
import { registryHosts, type InlineRegistry } from './hosts-config.ts';
import {
  checkDescriptor,
  imageLayers,
  manifestParts,
  parseJson,
  unpackStoredLayer,
  type Descriptor,
  type ImageConfigJson,
  type ManifestJson,
  type StoredImage,
} from './manifest.ts';
import { INDEX_TYPES, MANIFEST_TYPES } from './media-types.ts';
import { hostPlatform, selectPlatform, type Platform } from './platform.ts';
import { formatReference, type ImageReference } from '../reference/reference.ts';
import { RegistryClient } from './registry-client.ts';
import type { Snapshotter } from './snapshotter.ts';
import type { ImageLayer } from './image-store.ts';
import type { HttpTransport } from './http-transport.ts';
import type { PullProgress } from './pull-progress.ts';
import { eachLimited } from '../util/each-limited.ts';

export interface PullerDeps {
  content: ContentStore;
  snapshotter: Snapshotter;
  registryConfigPath: string;
  inlineRegistry?: InlineRegistry;
  log: Logger;
  concurrency: number;
  platform?: Platform;
  transport?: HttpTransport;
  /** Aborted when the pull is cancelled: every request stops, the pull fails with the reason. */
  signal?: AbortSignal;
  progress?: PullProgress;
}

class Pull {
  readonly #deps: PullerDeps;
  readonly #client: RegistryClient;
  readonly #name: string;

  constructor(deps: PullerDeps, client: RegistryClient, name: string) {
    this.#deps = deps;
    this.#client = client;
    this.#name = name;
  }

  /** Fetches a manifest or index, checks its digest, and keeps it in the content store. */
  async manifest(
    tagOrDigest: string,
  ): Promise<{ digest: Digest; json: ManifestJson; mediaType: string; size: number }> {
    const fetched = await this.#client.fetchManifest(tagOrDigest);
    const digest = sha256Of(fetched.bytes);
    if (tagOrDigest.startsWith('sha256:') && digest !== tagOrDigest) {
      throw failedPrecondition(`${this.#name}: manifest ${tagOrDigest} has digest ${digest}; not stored`);
    }
    await this.#deps.content.writeBytes(digest, fetched.bytes);
    const json = parseJson<ManifestJson>(fetched.bytes, `${this.#name}: manifest ${digest}`);
    const mediaType = json.mediaType ?? fetched.mediaType;
    if (json.schemaVersion === 1)
      throw failedPrecondition(`${this.#name}: Docker schema 1 manifests are not supported`);
    return { digest, json, mediaType, size: fetched.bytes.length };
  }

  async blob(d: Descriptor): Promise<void> {
    await this.#deps.content.ingest(d.digest, d.size, () => this.#client.fetchBlob(d.digest));
  }

  async layer(layer: ImageLayer): Promise<void> {
    if (this.#deps.snapshotter.hasLayer(layer.chainId)) return;
    await this.blob(layer);
    await unpackStoredLayer(this.#deps, layer, this.#name);
  }
}

async function resolvePlatformManifest(pull: Pull, ref: ImageReference, platform: Platform, name: string) {
  const top = await pull.manifest(ref.digest ?? ref.tag ?? 'latest');
  if (INDEX_TYPES.includes(top.mediaType) || (top.json.manifests !== undefined && top.json.layers === undefined)) {
    const chosen = checkDescriptor(selectPlatform(top.json.manifests ?? [], platform, name), `${name}: index entry`);
    const manifest = await pull.manifest(chosen.digest);
    return { resolved: top, manifest };
  }
  if (!MANIFEST_TYPES.includes(top.mediaType) && top.json.layers === undefined) {
    throw failedPrecondition(`${name}: unsupported manifest media type ${JSON.stringify(top.mediaType)}`);
  }
  return { resolved: top, manifest: top };
}

export async function pullImage(
  deps: PullerDeps,
  ref: ImageReference,
  auth: AuthConfig__Output | null | undefined,
): Promise<StoredImage> {
  const name = formatReference(ref);
  const hosts = await registryHosts(deps.registryConfigPath, ref.domain, deps.inlineRegistry);
  const { transport, signal, progress } = deps;
  const client = new RegistryClient({
    domain: ref.domain,
    repository: ref.path,
    hosts,
    auth,
    log: deps.log,
    ...(transport && { transport }),
    ...(signal && { signal }),
    ...(progress && { observer: progress }),
  });
  const pull = new Pull(deps, client, name);
  try {
    const { resolved, manifest } = await resolvePlatformManifest(pull, ref, deps.platform ?? hostPlatform(), name);
    const parts = manifestParts(manifest.json, name);
    progress?.expect(parts.config.size + parts.layers.reduce((sum, l) => sum + l.size, 0));
    await pull.blob(parts.config);
    const config = parseJson<ImageConfigJson>(
      await deps.content.read(parts.config.digest),
      `${name}: config ${parts.config.digest}`,
    );
    const layers = imageLayers(config, parts.layers, name);
    await eachLimited(layers, deps.concurrency, (l) => pull.layer(l), { stopAfterFailure: true });
    const size = manifest.size + parts.config.size + layers.reduce((sum, l) => sum + l.size, 0);
    return {
      resolvedDigest: resolved.digest,
      manifestDigest: manifest.digest,
      configDigest: parts.config.digest,
      config,
      layers,
      size,
    };
  } catch (err) {
    throw wrap(signal?.aborted ? signal.reason : err, `pull ${name}`);
  }
}
