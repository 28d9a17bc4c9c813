// Overlay snapshots under <root>/snapshots: one read-only directory per layer, named by chain id and
// unpacked once, and per container/sandbox an upper/work pair whose rootfs is an overlay mount.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { mount, umount } from '../util/libc.ts';
import { alreadyExists, invalidArgument, notFound, wrap } from '../errors.ts';
import { digestHex, type Digest } from '../reference/digest.ts';
import { diskUsage, type DiskUsage } from './disk-usage.ts';

/** A mount in containerd's shape; the shim mounts these on the bundle rootfs. */
export interface Mount {
  type: string;
  source: string;
  target: string;
  options: string[];
}

interface ActiveSnapshot {
  key: string;
  /** Chain ids, bottom layer first. */
  layers: Digest[];
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export class Snapshotter {
  readonly root: string;
  readonly #unpacking = new Map<Digest, Promise<void>>();

  constructor(root: string) {
    this.root = join(root, 'snapshots');
  }

  async init(): Promise<void> {
    await rm(join(this.root, 'tmp'), { recursive: true, force: true });
    for (const dir of ['tmp', 'layers', 'active']) await mkdir(join(this.root, dir), { recursive: true });
  }

  layerPath(chainId: Digest): string {
    return join(this.root, 'layers', digestHex(chainId), 'fs');
  }

  hasLayer(chainId: Digest): boolean {
    return existsSync(this.layerPath(chainId));
  }

  /**
   * Makes the layer directory for `chainId` unless it exists; `fill` writes the layer into a fresh
   * directory and throws if the content is wrong. Concurrent calls for one chain id share the work.
   */
  async ensureLayer(chainId: Digest, fill: (dir: string) => Promise<void>): Promise<void> {
    const running = this.#unpacking.get(chainId);
    if (running) return running;
    const work = this.#ensureLayerOnce(chainId, fill).finally(() => this.#unpacking.delete(chainId));
    this.#unpacking.set(chainId, work);
    return work;
  }

  async #ensureLayerOnce(chainId: Digest, fill: (dir: string) => Promise<void>): Promise<void> {
    if (this.hasLayer(chainId)) return;
    const temp = join(this.root, 'tmp', randomBytes(8).toString('hex'));
    try {
      await mkdir(join(temp, 'fs'), { recursive: true, mode: 0o755 });
      await fill(join(temp, 'fs'));
      await rename(temp, join(this.root, 'layers', digestHex(chainId)));
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }

  async removeLayer(chainId: Digest): Promise<void> {
    await rm(join(this.root, 'layers', digestHex(chainId)), { recursive: true, force: true });
  }

  async layers(): Promise<Digest[]> {
    const names = await readdir(join(this.root, 'layers'));
    return names.map((hex) => `sha256:${hex}` as Digest);
  }

  #activeDir(key: string): string {
    if (!KEY.test(key))
      throw invalidArgument(`snapshot key ${JSON.stringify(key)} must be 1-128 characters of [A-Za-z0-9_.-]`);
    return join(this.root, 'active', key);
  }

  /**
   * Creates the writable layer of `key` over `layers` (chain ids, bottom first) and returns its
   * mounts, synchronously (see writeSandboxFiles). The record is not fsynced: a power loss ends every
   * task that used it, and removal and recovery go by the directory, record or not.
   */
  prepare(key: string, layers: Digest[]): Mount[] {
    const dir = this.#activeDir(key);
    if (layers.length === 0) throw invalidArgument(`snapshot ${key}: an image needs at least one layer`);
    for (const chainId of layers) {
      if (!this.hasLayer(chainId)) throw notFound(`snapshot ${key}: layer ${chainId} is not unpacked`);
    }
    try {
      mkdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw alreadyExists(`snapshot ${key} already exists`);
      throw wrap(err, `create snapshot ${key}`);
    }
    mkdirSync(join(dir, 'upper'), { mode: 0o755 });
    mkdirSync(join(dir, 'work'), { mode: 0o700 });
    const record: ActiveSnapshot = { key, layers };
    writeFileSync(join(dir, 'snapshot.json'), JSON.stringify(record));
    return this.#mountsOf(record);
  }

  #record(key: string): ActiveSnapshot {
    try {
      return JSON.parse(readFileSync(join(this.#activeDir(key), 'snapshot.json'), 'utf8')) as ActiveSnapshot;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`snapshot ${key} does not exist`);
      throw wrap(err, `read snapshot ${key}`);
    }
  }

  #mountsOf(record: ActiveSnapshot): Mount[] {
    const dir = this.#activeDir(record.key);
    const lower = [...record.layers].reverse().map((id) => this.layerPath(id));
    const options = [`lowerdir=${lower.join(':')}`, `upperdir=${join(dir, 'upper')}`, `workdir=${join(dir, 'work')}`];
    return [{ type: 'overlay', source: 'overlay', target: '', options }];
  }

  mounts(key: string): Mount[] {
    return this.#mountsOf(this.#record(key));
  }

  /** Mounts the rootfs of `key` on `target` (for reading files of a rootfs, and for tests). */
  async mount(key: string, target: string): Promise<void> {
    const [overlay] = this.mounts(key);
    mount(overlay!.source, target, 'overlay', 0, overlay!.options.join(','));
  }

  async unmount(target: string): Promise<void> {
    umount(target);
  }

  async remove(key: string): Promise<void> {
    await rm(this.#activeDir(key), { recursive: true, force: true });
  }

  /**
   * The keys of every writable layer on disk, with or without a readable record: a crid killed
   * between making a snapshot's directory and writing its record leaves one without.
   */
  async keys(): Promise<string[]> {
    return readdir(join(this.root, 'active'));
  }

  async active(): Promise<Array<{ key: string; layers: Digest[] }>> {
    const keys = await this.keys();
    return keys.flatMap((k) => {
      try {
        return [this.#record(k)];
      } catch {
        return [];
      }
    });
  }

  /** Usage of the writable layer of `key`. */
  async usage(key: string): Promise<DiskUsage> {
    this.#record(key);
    return diskUsage(join(this.#activeDir(key), 'upper'));
  }
}
