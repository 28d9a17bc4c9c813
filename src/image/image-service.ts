// The images of one crid root: pulls (shared when concurrent), lookups by tag, digest or id,
// removal with garbage collection of blobs and layer snapshots, and rootfs snapshots for containers.
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { AuthConfig__Output } from '../generated/runtime/v1/AuthConfig.ts';
import { canceled, failedPrecondition, notFound } from '../errors.ts';
import type { Logger } from '../log.ts';
import { ImageStore, type ImageConfigSummary, type ImageRecord } from './image-store.ts';
import { ContentStore } from './content-store.ts';
import type { Digest } from '../reference/digest.ts';
import { diskUsage, type DiskUsage } from './disk-usage.ts';
import type { Platform } from './platform.ts';
import type { ImageConfigJson, StoredImage } from './manifest.ts';
import {
  formatReference,
  looksLikeImageId,
  parseNormalizedReference,
  repositoryName,
  type ImageReference,
} from '../reference/reference.ts';
import { Snapshotter, type Mount } from './snapshotter.ts';
import { DEFAULT_CONNECT_TIMEOUT_MS, HttpTransport } from './http-transport.ts';
import { PullProgress } from './pull-progress.ts';
import type { InlineRegistry } from './hosts-config.ts';

export interface ImageServiceOptions {
  /** crid's persistent root; images, content and snapshots live beneath it. */
  root: string;
  /** `registry.config_path` (hosts.toml directories, `:`-separated); "" for none. */
  registryConfigPath: string;
  /** containerd 1.x's inline registry.mirrors and registry.configs. */
  inlineRegistry?: InlineRegistry;
  log: Logger;
  /** Images never removed by RemoveImage and reported pinned (the sandbox image). */
  pinnedImages?: string[];
  /** Layers downloaded at once per pull (max_concurrent_downloads). */
  concurrency?: number;
  platform?: Platform;
  /** image_pull_progress_timeout in ms: a pull receiving nothing for this long is cancelled; 0 never. */
  progressTimeoutMs?: number;
  /** The environment registry proxies are read from (HTTP_PROXY, HTTPS_PROXY, NO_PROXY); none when absent. */
  proxyEnv?: NodeJS.ProcessEnv;
  connectTimeoutMs?: number;
}

/** containerd's defaults. */
const DEFAULT_CONCURRENCY = 3;
const DEFAULT_PROGRESS_TIMEOUT_MS = 5 * 60_000;

interface RunningPull {
  work: Promise<ImageRecord>;
  controller: AbortController;
  /** Callers still waiting; the pull is cancelled when the last cancellable one leaves. */
  waiters: number;
}

export interface ImageFsUsage extends DiskUsage {
  mountpoint: string;
}

function summarizeConfig(config: ImageConfigJson): ImageConfigSummary {
  const c = config.config ?? {};
  return {
    user: c.User ?? '',
    env: c.Env ?? [],
    entrypoint: c.Entrypoint ?? [],
    cmd: c.Cmd ?? [],
    workingDir: c.WorkingDir ?? '',
    stopSignal: c.StopSignal ?? '',
    labels: c.Labels ?? {},
    exposedPorts: Object.keys(c.ExposedPorts ?? {}),
    volumes: Object.keys(c.Volumes ?? {}),
  };
}

/** containerd's rule: a numeric user (before any `:group`) is a uid, anything else a user name. */
function userOf(user: string): { uid?: string; username: string } {
  const name = user.split(':')[0] ?? '';
  if (name === '') return { username: '' };
  return /^\d+$/.test(name) ? { uid: name, username: '' } : { username: name };
}

function nowNs(): string {
  return (BigInt(Date.now()) * 1_000_000n).toString();
}

/** The record of a stored image under `names`: each tag as a repo tag, each repository with the resolved digest. */
function toRecord(names: ImageReference[], stored: StoredImage): ImageRecord {
  const config = summarizeConfig(stored.config);
  const repos = [...new Set(names.map(repositoryName))];
  return {
    id: stored.configDigest,
    repoTags: names
      .filter((n) => n.tag !== undefined && n.digest === undefined)
      .map((n) => `${repositoryName(n)}:${n.tag}`),
    repoDigests: repos.map((repo) => `${repo}@${stored.resolvedDigest}`),
    size: stored.size,
    manifestDigest: stored.manifestDigest,
    layers: stored.layers,
    config,
    ...userOf(config.user),
    createdAt: nowNs(),
  };
}

function waitForPull(running: RunningPull, name: string, signal: AbortSignal | undefined): Promise<ImageRecord> {
  running.waiters++;
  if (!signal) return running.work;
  return new Promise<ImageRecord>((resolve, reject) => {
    const leave = () => {
      if (--running.waiters === 0)
        running.controller.abort(canceled(`pull of ${name} cancelled: no caller waits for it any more`));
      reject(canceled(`pull of ${name}: the caller cancelled or its deadline passed`));
    };
    if (signal.aborted) return leave();
    signal.addEventListener('abort', leave, { once: true });
    running.work.then(resolve, reject).finally(() => signal.removeEventListener('abort', leave));
  });
}

export class ImageService {
  readonly content: ContentStore;
  readonly snapshotter: Snapshotter;
  readonly #store: ImageStore;
  readonly #opts: ImageServiceOptions;
  readonly #pulls = new Map<string, RunningPull>();
  #imports = 0;
  readonly #transport: HttpTransport;

  private constructor(opts: ImageServiceOptions, store: ImageStore, content: ContentStore, snapshotter: Snapshotter) {
    this.#opts = opts;
    this.#transport = new HttpTransport({
      connectTimeoutMs: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      ...(opts.proxyEnv && { proxyEnv: opts.proxyEnv }),
    });
    this.#store = store;
    this.content = content;
    this.snapshotter = snapshotter;
  }

  static async open(opts: ImageServiceOptions): Promise<ImageService> {
    const content = new ContentStore(opts.root);
    const snapshotter = new Snapshotter(opts.root);
    await content.init();
    await snapshotter.init();
    const store = await ImageStore.open(opts.root, opts.log);
    return new ImageService(opts, store, content, snapshotter);
  }

  /**
   * Pulls `ref`; a pull of the same reference already running is joined, not repeated. A caller whose
   * `signal` aborts (cancel, deadline) stops waiting at once; the download stops when no caller waits.
   */
  async pull(ref: string, auth?: AuthConfig__Output | null, signal?: AbortSignal): Promise<ImageRecord> {
    const parsed = parseNormalizedReference(ref);
    const key = formatReference(parsed);
    let running = this.#pulls.get(key);
    if (!running) {
      const controller = new AbortController();
      running = {
        controller,
        waiters: 0,
        work: this.#pullOnce(parsed, auth, controller).finally(() => this.#pulls.delete(key)),
      };
      this.#pulls.set(key, running);
    }
    return waitForPull(running, key, signal);
  }

  async #pullOnce(
    ref: ImageReference,
    auth: AuthConfig__Output | null | undefined,
    controller: AbortController,
  ): Promise<ImageRecord> {
    const log = this.#opts.log.child({ image: formatReference(ref) });
    const progress = new PullProgress({
      log,
      stallTimeoutMs: this.#opts.progressTimeoutMs ?? DEFAULT_PROGRESS_TIMEOUT_MS,
      onStall: (err) => controller.abort(err),
    });
    const deps = {
      content: this.content,
      snapshotter: this.snapshotter,
      registryConfigPath: this.#opts.registryConfigPath,
      ...(this.#opts.inlineRegistry && { inlineRegistry: this.#opts.inlineRegistry }),
      log,
      concurrency: this.#opts.concurrency ?? DEFAULT_CONCURRENCY,
      ...(this.#opts.platform && { platform: this.#opts.platform }),
      transport: this.#transport,
      signal: controller.signal,
      progress,
    };
    // The registry client and layer unpacking load on the first pull: most starts pull nothing.
    const { pullImage } = await import('./puller.ts');
    const pulled = await pullImage(deps, ref, auth).finally(() => progress.stop());
    const record = await this.#store.add(toRecord([ref], pulled));
    log.info({ imageId: record.id, size: record.size }, 'image pulled');
    return record;
  }

  /**
   * Imports the images of an archive (OCI image layout or `docker save`, see archive-import.ts) under
   * the names it gives them; a name held by another image moves to the imported one, as after a pull.
   */
  async importArchive(source: Readable): Promise<ImageRecord[]> {
    this.#imports++;
    try {
      // Loaded on use, as the puller is: tar parsing is rarely needed.
      const { importArchive } = await import('./archive-import.ts');
      const images = await importArchive(
        { content: this.content, snapshotter: this.snapshotter, log: this.#opts.log },
        source,
        this.#opts.platform,
      );
      const records: ImageRecord[] = [];
      for (const image of images) records.push(await this.#store.add(toRecord(image.names, image)));
      for (const r of records) this.#opts.log.info({ imageId: r.id, repoTags: r.repoTags }, 'image imported');
      return records;
    } finally {
      this.#imports--;
      // What the archive brought that no image names (its other files, or all of it after a failure).
      await this.#collectGarbage().catch((err: unknown) =>
        this.#opts.log.warn({ err: String(err) }, 'image garbage collection after an import failed'),
      );
    }
  }

  /** The image for `ref`, pulled if it is not here yet (the sandbox image). */
  async ensureImage(ref: string, auth?: AuthConfig__Output | null): Promise<ImageRecord> {
    return this.getImage(ref) ?? this.pull(ref, auth);
  }

  /**
   * Looks an image up by id (`sha256:…` or bare hex), repo tag or repo digest, familiar or full, and
   * as containerd does, a reference that names no image by a unique prefix of its id.
   */
  getImage(refOrId: string): ImageRecord | undefined {
    if (looksLikeImageId(refOrId)) {
      const id = (refOrId.startsWith('sha256:') ? refOrId : `sha256:${refOrId}`) as Digest;
      return this.#store.get(id);
    }
    return this.byReference(refOrId) ?? this.#store.byIdPrefix(refOrId);
  }

  /** The image a repo tag or repo digest names, familiar or full. */
  byReference(ref: string): ImageRecord | undefined {
    let parsed: ImageReference;
    try {
      parsed = parseNormalizedReference(ref);
    } catch {
      return undefined;
    }
    const repo = repositoryName(parsed);
    if (parsed.digest !== undefined)
      return this.#store.byReference(`${repo}@${parsed.digest}`) ?? this.#store.get(parsed.digest);
    return this.#store.byReference(`${repo}:${parsed.tag}`);
  }

  list(): ImageRecord[] {
    return this.#store.list();
  }

  isPinned(image: ImageRecord): boolean {
    return (this.#opts.pinnedImages ?? []).some((ref) => this.getImage(ref)?.id === image.id);
  }

  imageConfig(id: string): ImageConfigSummary {
    const image = this.getImage(id);
    if (image === undefined) throw notFound(`image ${JSON.stringify(id)} not found`);
    return image.config;
  }

  /** The full OCI config JSON of an image, for verbose status. */
  async imageSpec(image: ImageRecord): Promise<unknown> {
    return JSON.parse((await this.content.read(image.id)).toString('utf8'));
  }

  /**
   * Removes an image. A tag of an image that has other tags only loses that tag; an id, digest or
   * last tag removes the image, then unreferenced blobs and layers. Absent images are not an error.
   * As in containerd, containers made from the image keep running: their snapshots keep the layers,
   * and their records keep the image's name and id.
   */
  async remove(refOrId: string): Promise<void> {
    const image = this.getImage(refOrId);
    if (image === undefined) return;
    const tag = this.tagNamed(refOrId);
    if (tag !== undefined && image.repoTags.includes(tag) && image.repoTags.length > 1) {
      await this.#store.untag(tag);
      return;
    }
    if (this.isPinned(image)) throw failedPrecondition(`image ${image.id} is pinned (the sandbox image)`);
    await this.#store.delete(image.id);
    await this.#collectGarbage();
  }

  /** The normalized `repo:tag` a reference names, if it names one. */
  private tagNamed(ref: string): string | undefined {
    if (looksLikeImageId(ref)) return undefined;
    try {
      const parsed = parseNormalizedReference(ref);
      return parsed.digest === undefined ? `${repositoryName(parsed)}:${parsed.tag}` : undefined;
    } catch {
      return undefined;
    }
  }

  /** Deletes blobs and layer directories no image and no container snapshot refers to. */
  async #collectGarbage(): Promise<void> {
    if (this.#pulls.size > 0 || this.#imports > 0) return; // a running pull or import may be using content no record names yet
    const images = this.#store.list();
    const blobs = new Set<string>(
      images.flatMap((i) => [
        i.id,
        i.manifestDigest,
        ...i.layers.map((l) => l.digest),
        ...i.repoDigests.map((d) => d.slice(d.indexOf('@') + 1)),
      ]),
    );
    const layers = new Set<string>(images.flatMap((i) => i.layers.map((l) => l.chainId)));
    for (const snap of await this.snapshotter.active()) for (const l of snap.layers) layers.add(l);
    for (const digest of await this.content.list()) if (!blobs.has(digest)) await this.content.delete(digest);
    for (const chainId of await this.snapshotter.layers())
      if (!layers.has(chainId)) await this.snapshotter.removeLayer(chainId);
  }

  /** Makes the writable snapshot `key` (a container or sandbox id) over an image's layers. */
  prepareSnapshot(key: string, imageId: string): Mount[] {
    const image = this.getImage(imageId);
    if (image === undefined) throw notFound(`image ${JSON.stringify(imageId)} not found for snapshot ${key}`);
    return this.snapshotter.prepare(
      key,
      image.layers.map((l) => l.chainId),
    );
  }

  /** Bytes and inodes used by image content and unpacked layers. */
  async fsUsage(): Promise<ImageFsUsage> {
    const [content, layers] = await Promise.all([
      diskUsage(this.content.root),
      diskUsage(join(this.snapshotter.root, 'layers')),
    ]);
    return {
      mountpoint: this.snapshotter.root,
      bytes: content.bytes + layers.bytes,
      inodes: content.inodes + layers.inodes,
    };
  }
}
