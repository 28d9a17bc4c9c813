// Image records by id (the config digest), one JSON file each under <root>/images, written by
// temp file + fsync + rename so a crash leaves the old or the new record, never half of one.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { invalidArgument, wrap } from '../errors.ts';
import type { Logger } from '../log.ts';
import { digestHex, isDigest, type Digest } from '../reference/digest.ts';
import { removeRecord, writeJsonAtomic } from '../store/checkpoint.ts';
import { imageIdPrefix } from '../reference/reference.ts';

/** The parts of the OCI image config the runtime uses. */
export interface ImageConfigSummary {
  user: string;
  env: string[];
  entrypoint: string[];
  cmd: string[];
  workingDir: string;
  stopSignal: string;
  labels: Record<string, string>;
  exposedPorts: string[];
  volumes: string[];
}

export interface ImageLayer {
  digest: Digest;
  mediaType: string;
  size: number;
  diffId: Digest;
  chainId: Digest;
}

export interface ImageRecord {
  /** The config digest. */
  id: Digest;
  repoTags: string[];
  repoDigests: string[];
  /** Bytes of manifest, config and compressed layers. */
  size: number;
  /** The platform manifest this node uses (the index, if any, is in repoDigests). */
  manifestDigest: Digest;
  layers: ImageLayer[];
  config: ImageConfigSummary;
  /** From the config's User when it is numeric; a name otherwise goes to `username`. */
  uid?: string;
  username: string;
  /** When the image was first stored, ns since the epoch as a decimal string. */
  createdAt: string;
}

const RECORD_VERSION = 1;

export class ImageStore {
  readonly #dir: string;
  readonly #records = new Map<Digest, ImageRecord>();
  #lock: Promise<unknown> = Promise.resolve();

  private constructor(dir: string) {
    this.#dir = dir;
  }

  /** Loads every record under `<root>/images`; unreadable files are logged and skipped. */
  static async open(root: string, log: Logger): Promise<ImageStore> {
    const store = new ImageStore(join(root, 'images'));
    await mkdir(store.#dir, { recursive: true });
    for (const name of await readdir(store.#dir)) {
      const path = join(store.#dir, name);
      if (name.endsWith('.tmp')) {
        await rm(path, { force: true });
        continue;
      }
      try {
        const saved = JSON.parse(await readFile(path, 'utf8')) as { version: number; image: ImageRecord };
        if (saved.version !== RECORD_VERSION || !isDigest(saved.image.id))
          throw new Error(`unknown record version ${saved.version}`);
        store.#records.set(saved.image.id, saved.image);
      } catch (err) {
        log.warn({ file: path, err: String(err) }, 'skipping unreadable image record');
      }
    }
    return store;
  }

  list(): ImageRecord[] {
    return [...this.#records.values()];
  }

  get(id: Digest): ImageRecord | undefined {
    return this.#records.get(id);
  }

  /**
   * The image whose id starts with `prefix` (`sha256:` optional), as crictl users type ids; an
   * ambiguous prefix is an error, as for pod and container ids.
   */
  byIdPrefix(prefix: string): ImageRecord | undefined {
    const full = imageIdPrefix(prefix);
    if (full === undefined) return undefined;
    const matches = this.list().filter((r) => r.id.startsWith(full));
    if (matches.length > 1) throw invalidArgument(`image id prefix "${prefix}" is ambiguous`);
    return matches[0];
  }

  /** The image a repo tag or repo digest (normalized, `repo:tag` / `repo@sha256:…`) names. */
  byReference(ref: string): ImageRecord | undefined {
    return this.list().find((r) => r.repoTags.includes(ref) || r.repoDigests.includes(ref));
  }

  /**
   * Stores `record`, merging its tags and digests into an existing record of the same id. A tag or
   * digest held by another image moves to this one.
   */
  async add(record: ImageRecord): Promise<ImageRecord> {
    return this.#serialized(async () => {
      const existing = this.#records.get(record.id);
      const merged: ImageRecord = existing
        ? {
            ...existing,
            repoTags: [...new Set([...existing.repoTags, ...record.repoTags])],
            repoDigests: [...new Set([...existing.repoDigests, ...record.repoDigests])],
          }
        : record;
      for (const other of this.#records.values()) {
        if (other.id === record.id) continue;
        const repoTags = other.repoTags.filter((t) => !record.repoTags.includes(t));
        const repoDigests = other.repoDigests.filter((d) => !record.repoDigests.includes(d));
        if (repoTags.length !== other.repoTags.length || repoDigests.length !== other.repoDigests.length) {
          await this.#save({ ...other, repoTags, repoDigests });
        }
      }
      await this.#save(merged);
      return merged;
    });
  }

  /** Drops one repo tag from its image. */
  async untag(tag: string): Promise<void> {
    await this.#serialized(async () => {
      const owner = this.list().find((r) => r.repoTags.includes(tag));
      if (owner) await this.#save({ ...owner, repoTags: owner.repoTags.filter((t) => t !== tag) });
    });
  }

  async delete(id: Digest): Promise<void> {
    await this.#serialized(async () => {
      await removeRecord(this.#path(id));
      this.#records.delete(id);
    });
  }

  #path(id: Digest): string {
    return join(this.#dir, `${digestHex(id)}.json`);
  }

  async #save(record: ImageRecord): Promise<void> {
    try {
      await writeJsonAtomic(this.#path(record.id), { version: RECORD_VERSION, image: record });
    } catch (err) {
      throw wrap(err, `save image record ${record.id}`);
    }
    this.#records.set(record.id, record);
  }

  #serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }
}
