// Pulling one image: resolve the reference, pick the node's platform from an index, fetch and
// verify config and layers (bounded concurrency, shared with concurrent pulls), unpack each layer once.
import type { AuthConfig__Output } from '../generated/runtime/v1/AuthConfig.ts';
import { failedPrecondition, wrap } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ContentStore } from './content-store.ts';
import { chainIds, parseDigest, sha256Of, type Digest } from './digest.ts';
import { registryHosts, type InlineRegistry } from './hosts-config.ts';
import { INDEX_TYPES, LAYER_TYPES, MANIFEST_TYPES } from './media-types.ts';
import { hostPlatform, selectPlatform, type Platform } from './platform.ts';
import { formatReference, type ImageReference } from './reference.ts';
import { RegistryClient } from './registry-client.ts';
import type { Snapshotter } from './snapshotter.ts';
import { unpackLayer } from './unpack.ts';
import type { ImageLayer } from './image-store.ts';
import type { HttpTransport } from './http-transport.ts';
import type { PullProgress } from './pull-progress.ts';

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  platform?: Platform;
}

interface ManifestJson {
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

export interface PulledImage {
  /** What the reference resolved to: the index digest for multi-platform images. */
  resolvedDigest: Digest;
  manifestDigest: Digest;
  configDigest: Digest;
  config: ImageConfigJson;
  layers: ImageLayer[];
  size: number;
}

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

/** Runs `fn` over `items`, `limit` at a time; after a failure starts nothing new and waits for the rest. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < items.length && !failed) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (rejected) throw rejected.reason;
  return results;
}

function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (err) {
    throw failedPrecondition(`${what} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function checkDescriptor(d: Descriptor | undefined, what: string): Descriptor {
  if (d === undefined || typeof d.size !== 'number' || d.size < 0) throw failedPrecondition(`${what}: missing or bad descriptor`);
  return { ...d, digest: parseDigest(d.digest, `${what} digest`) };
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
  async manifest(tagOrDigest: string): Promise<{ digest: Digest; json: ManifestJson; mediaType: string; size: number }> {
    const fetched = await this.#client.fetchManifest(tagOrDigest);
    const digest = sha256Of(fetched.bytes);
    if (tagOrDigest.startsWith('sha256:') && digest !== tagOrDigest) {
      throw failedPrecondition(`${this.#name}: manifest ${tagOrDigest} has digest ${digest}; not stored`);
    }
    await this.#deps.content.writeBytes(digest, fetched.bytes);
    const json = parseJson<ManifestJson>(fetched.bytes, `${this.#name}: manifest ${digest}`);
    const mediaType = json.mediaType ?? fetched.mediaType;
    if (json.schemaVersion === 1) throw failedPrecondition(`${this.#name}: Docker schema 1 manifests are not supported`);
    return { digest, json, mediaType, size: fetched.bytes.length };
  }

  async blob(d: Descriptor): Promise<void> {
    await this.#deps.content.ingest(d.digest, d.size, () => this.#client.fetchBlob(d.digest));
  }

  async layer(d: Descriptor, diffId: Digest, chainId: Digest): Promise<void> {
    const { content, snapshotter, log } = this.#deps;
    if (await snapshotter.hasLayer(chainId)) return;
    await this.blob(d);
    await snapshotter.ensureLayer(chainId, async (dir) => {
      const result = await unpackLayer(content.path(d.digest), dir, log);
      if (result.diffId !== diffId) {
        throw failedPrecondition(`${this.#name}: layer ${d.digest} unpacks to ${result.diffId}, the config says ${diffId}`);
      }
    });
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

export async function pullImage(deps: PullerDeps, ref: ImageReference, auth: AuthConfig__Output | null | undefined): Promise<PulledImage> {
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
    const configDesc = checkDescriptor(manifest.json.config, `${name}: config`);
    const layerDescs = (manifest.json.layers ?? []).map((l, i) => checkDescriptor(l, `${name}: layer ${i}`));
    for (const l of layerDescs) {
      if (!LAYER_TYPES.includes(l.mediaType)) throw failedPrecondition(`${name}: layer ${l.digest} has unsupported media type ${l.mediaType}`);
    }
    progress?.expect(configDesc.size + layerDescs.reduce((sum, l) => sum + l.size, 0));
    await pull.blob(configDesc);
    const config = parseJson<ImageConfigJson>(await deps.content.read(configDesc.digest), `${name}: config ${configDesc.digest}`);
    const diffIds = (config.rootfs?.diff_ids ?? []).map((d) => parseDigest(d, `${name}: diff_id`));
    if (diffIds.length !== layerDescs.length) {
      throw failedPrecondition(`${name}: config lists ${diffIds.length} diff_ids for ${layerDescs.length} layers`);
    }
    if (layerDescs.length === 0) throw failedPrecondition(`${name}: image has no layers`);
    const chains = chainIds(diffIds);
    await mapLimit(layerDescs, deps.concurrency, (d, i) => pull.layer(d, diffIds[i]!, chains[i]!));
    const layers = layerDescs.map((d, i) => ({ digest: d.digest, mediaType: d.mediaType, size: d.size, diffId: diffIds[i]!, chainId: chains[i]! }));
    const size = manifest.size + configDesc.size + layers.reduce((sum, l) => sum + l.size, 0);
    return { resolvedDigest: resolved.digest, manifestDigest: manifest.digest, configDigest: configDesc.digest, config, layers, size };
  } catch (err) {
    throw wrap(signal?.aborted ? signal.reason : err, `pull ${name}`);
  }
}
