// Blobs by digest under <root>/content/blobs/sha256/<hex>. Every blob is written to a temp file in
// <root>/content/ingest while its size and digest are checked, and renamed into place only if both match.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { failedPrecondition, notFound, wrap } from '../errors.ts';
import { digestHex, type Digest } from '../reference/digest.ts';

/** Hashes and counts what passes through; fails as soon as more than `expectedSize` bytes arrive. */
class DigestVerifier extends Transform {
  readonly hash = createHash('sha256');
  size = 0;
  readonly #expectedSize: number | undefined;
  readonly #what: string;

  constructor(what: string, expectedSize: number | undefined) {
    super();
    this.#what = what;
    this.#expectedSize = expectedSize;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.#expectedSize !== undefined && this.size > this.#expectedSize) {
      done(failedPrecondition(`${this.#what}: more than the expected ${this.#expectedSize} bytes`));
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }
}

export class ContentStore {
  readonly root: string;
  readonly #inflight = new Map<Digest, Promise<void>>();

  constructor(root: string) {
    this.root = join(root, 'content');
  }

  /** Creates the directories and drops temp files a crash left behind. */
  async init(): Promise<void> {
    await rm(join(this.root, 'ingest'), { recursive: true, force: true });
    await mkdir(join(this.root, 'ingest'), { recursive: true });
    await mkdir(join(this.root, 'blobs', 'sha256'), { recursive: true });
  }

  path(digest: Digest): string {
    return join(this.root, 'blobs', 'sha256', digestHex(digest));
  }

  async size(digest: Digest): Promise<number | undefined> {
    return stat(this.path(digest)).then(
      (s) => s.size,
      () => undefined,
    );
  }

  async has(digest: Digest): Promise<boolean> {
    return (await this.size(digest)) !== undefined;
  }

  async read(digest: Digest): Promise<Buffer> {
    try {
      return await readFile(this.path(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw notFound(`blob ${digest} is not in the content store`);
      throw wrap(err, `read blob ${digest}`);
    }
  }

  open(digest: Digest): Readable {
    return createReadStream(this.path(digest), { highWaterMark: 1 << 20 });
  }

  /**
   * Stores the blob `source()` yields unless it is already there; concurrent calls for one digest
   * share a single download. Rejects (and keeps nothing) when size or digest do not match.
   */
  async ingest(digest: Digest, expectedSize: number | undefined, source: () => Promise<Readable>): Promise<void> {
    const running = this.#inflight.get(digest);
    if (running) return running;
    const work = this.#ingestOnce(digest, expectedSize, source).finally(() => this.#inflight.delete(digest));
    this.#inflight.set(digest, work);
    return work;
  }

  async writeBytes(digest: Digest, bytes: Buffer): Promise<void> {
    await this.ingest(digest, bytes.length, async () => Readable.from([bytes]));
  }

  /**
   * Stores a blob whose digest is learnt from its bytes (an archive's file); when `expected` is given,
   * the bytes must have that digest. Returns the digest and size.
   */
  async ingestUnnamed(source: AsyncIterable<Uint8Array>, expected?: Digest): Promise<{ digest: Digest; size: number }> {
    const temp = join(this.root, 'ingest', `unnamed-${randomBytes(8).toString('hex')}`);
    const verifier = new DigestVerifier(expected === undefined ? 'archive file' : `blob ${expected}`, undefined);
    try {
      await pipeline(source, verifier, createWriteStream(temp, { flush: true }));
      const digest: Digest = `sha256:${verifier.hash.digest('hex')}`;
      if (expected !== undefined && digest !== expected)
        throw failedPrecondition(`blob ${expected}: content has digest ${digest}; not stored`);
      await rename(temp, this.path(digest));
      return { digest, size: verifier.size };
    } finally {
      await rm(temp, { force: true });
    }
  }

  async #ingestOnce(digest: Digest, expectedSize: number | undefined, source: () => Promise<Readable>): Promise<void> {
    const existing = await this.size(digest);
    if (existing !== undefined && (expectedSize === undefined || existing === expectedSize)) return;
    const temp = join(this.root, 'ingest', `${digestHex(digest)}-${randomBytes(6).toString('hex')}`);
    const verifier = new DigestVerifier(`blob ${digest}`, expectedSize);
    try {
      await pipeline(await source(), verifier, createWriteStream(temp, { flush: true }));
      if (expectedSize !== undefined && verifier.size !== expectedSize) {
        throw failedPrecondition(`blob ${digest}: got ${verifier.size} bytes, expected ${expectedSize}`);
      }
      const actual = `sha256:${verifier.hash.digest('hex')}`;
      if (actual !== digest) throw failedPrecondition(`blob ${digest}: content has digest ${actual}; not stored`);
      await rename(temp, this.path(digest));
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  async delete(digest: Digest): Promise<void> {
    await rm(this.path(digest), { force: true });
  }

  async list(): Promise<Digest[]> {
    const names = await readdir(join(this.root, 'blobs', 'sha256'));
    return names.map((hex) => `sha256:${hex}` as Digest);
  }
}
