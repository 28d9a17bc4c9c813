// Applies one layer tarball (gzip, zstd or plain) to an empty directory in overlayfs form:
// `.wh.<name>` becomes a 0/0 character device, `.wh..wh..opq` the trusted.overlay.opaque xattr.
// Owners, modes, mtimes, xattrs, hard links, symlinks and device nodes are kept. The uncompressed
// stream's digest is returned so the caller can check it against the config's diff_id.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, open, rm, symlink, utimes } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { runCommand } from '../util/command.ts';
import tar from 'tar-stream';
import { invalidArgument, wrap } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Digest } from '../reference/digest.ts';
import { entryComponents, resolveDirectory } from './safe-path.ts';

export interface UnpackResult {
  diffId: Digest;
  /** Bytes of the uncompressed tar stream. */
  size: number;
}

type Header = Omit<tar.Header, 'pax'> & { pax?: Record<string, string> | null };
type Body = AsyncIterable<Uint8Array>;

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

async function decompressorFor(file: string): Promise<Transform> {
  const handle = await open(file, 'r');
  const head = Buffer.alloc(4);
  try {
    await handle.read(head, 0, 4, 0);
  } finally {
    await handle.close();
  }
  if (head.subarray(0, 2).equals(GZIP_MAGIC)) return zlib.createGunzip({ chunkSize: 1 << 17 });
  if (head.equals(ZSTD_MAGIC)) return zlib.createZstdDecompress({ chunkSize: 1 << 17 });
  return new PassThrough();
}

class Hasher extends Transform {
  readonly hash = createHash('sha256');
  size = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    done(null, chunk);
  }
}

async function run(cmd: string, args: string[]): Promise<void> {
  await runCommand(cmd, args);
}

/** O_EXCL: never follows or reuses whatever was at the path. */
async function writeNewFile(path: string, mode: number, body: Body): Promise<void> {
  const handle = await open(path, 'wx', mode);
  try {
    for await (const chunk of body) await handle.write(chunk);
  } finally {
    await handle.close();
  }
}

async function removeExisting(path: string, keepDirectory: boolean): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (st === undefined || (keepDirectory && st.isDirectory())) return;
  await rm(path, { recursive: true, force: true });
}

class LayerWriter {
  readonly #root: string;
  readonly #log: Logger;
  /** Directory mtimes are set last: creating their children changes them. */
  readonly #directoryTimes: Array<[string, Date]> = [];

  constructor(root: string, log: Logger) {
    this.#root = root;
    this.#log = log;
  }

  async apply(header: Header, body: Body): Promise<void> {
    const parts = entryComponents(header.name);
    if (parts.length === 0) return; // the layer root itself
    const name = parts.at(-1)!;
    const parent = await resolveDirectory(this.#root, parts.slice(0, -1), true, header.name);
    if (name === OPAQUE_MARKER) return this.#markOpaque(parent);
    if (name.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return; // other AUFS metadata
    if (name.startsWith(WHITEOUT_PREFIX)) return this.#whiteout(join(parent, name.slice(WHITEOUT_PREFIX.length)));
    const target = join(parent, name);
    await removeExisting(target, header.type === 'directory');
    if (header.type === 'link') return this.#hardLink(header, target);
    await this.#create(header, body, target);
    await this.#setMetadata(header, target);
  }

  async finish(): Promise<void> {
    for (const [dir, mtime] of this.#directoryTimes.reverse()) await utimes(dir, mtime, mtime);
  }

  async #create(header: Header, body: Body, target: string): Promise<void> {
    const mode = (header.mode ?? 0o644) & 0o7777;
    switch (header.type) {
      case 'file':
      case 'contiguous-file':
        await writeNewFile(target, mode, body);
        return;
      case 'directory':
        await mkdir(target, { mode: 0o755 }).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST') throw err;
        });
        return;
      case 'symlink':
        await symlink(header.linkname ?? '', target);
        return;
      case 'character-device':
      case 'block-device':
        await run('mknod', [
          target,
          header.type === 'character-device' ? 'c' : 'b',
          String(header.devmajor ?? 0),
          String(header.devminor ?? 0),
        ]);
        return;
      case 'fifo':
        await run('mknod', [target, 'p']);
        return;
      default:
        throw invalidArgument(`layer entry ${JSON.stringify(header.name)}: unsupported type ${header.type}`);
    }
  }

  async #hardLink(header: Header, target: string): Promise<void> {
    const linkname = header.linkname ?? '';
    const parts = entryComponents(linkname);
    if (parts.length === 0)
      throw invalidArgument(`layer entry ${JSON.stringify(header.name)}: hard link to the layer root`);
    const dir = await resolveDirectory(this.#root, parts.slice(0, -1), false, header.name);
    const source = join(dir, parts.at(-1)!);
    const st = await lstat(source).catch(() => undefined);
    if (st === undefined)
      throw invalidArgument(
        `layer entry ${JSON.stringify(header.name)}: hard link target ${JSON.stringify(linkname)} is not in this layer`,
      );
    if (st.isDirectory())
      throw invalidArgument(
        `layer entry ${JSON.stringify(header.name)}: hard link to directory ${JSON.stringify(linkname)}`,
      );
    await link(source, target);
  }

  async #setMetadata(header: Header, target: string): Promise<void> {
    const uid = Number(header.pax?.uid ?? header.uid ?? 0);
    const gid = Number(header.pax?.gid ?? header.gid ?? 0);
    await lchown(target, uid, gid);
    if (header.type !== 'symlink') await chmod(target, (header.mode ?? 0o644) & 0o7777);
    await this.#setXattrs(header, target);
    const mtime = header.mtime ?? new Date(0);
    if (header.type === 'directory') this.#directoryTimes.push([target, mtime]);
    else await lutimes(target, mtime, mtime);
  }

  async #setXattrs(header: Header, target: string): Promise<void> {
    for (const [key, value] of Object.entries(header.pax ?? {})) {
      if (!key.startsWith('SCHILY.xattr.')) continue;
      const attr = key.slice('SCHILY.xattr.'.length);
      // A layer must not steer overlayfs itself (redirects, metacopy, opaque) except through whiteouts.
      if (attr.startsWith('trusted.overlay.')) continue;
      const encoded = `0s${Buffer.from(value, 'utf8').toString('base64')}`;
      await run('setfattr', ['-h', '-n', attr, '-v', encoded, target]).catch((err: unknown) =>
        this.#log.warn({ entry: header.name, xattr: attr, err: String(err) }, 'could not set xattr from layer'),
      );
    }
  }

  async #markOpaque(dir: string): Promise<void> {
    await run('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', dir]);
  }

  async #whiteout(path: string): Promise<void> {
    await removeExisting(path, false);
    await run('mknod', ['-m', '0', path, 'c', '0', '0']);
  }
}

/** Unpacks the layer blob at `blobPath` into the empty directory `target`. */
export async function unpackLayer(blobPath: string, target: string, log: Logger): Promise<UnpackResult> {
  const hasher = new Hasher();
  const extract = tar.extract();
  const feeding = pipeline(
    createReadStream(blobPath, { highWaterMark: 1 << 20 }),
    await decompressorFor(blobPath),
    hasher,
    extract,
  );
  const writer = new LayerWriter(target, log);
  try {
    for await (const entry of extract) {
      await writer.apply(entry.header as Header, entry as unknown as Body);
      entry.resume();
    }
    await feeding;
    await writer.finish();
  } catch (err) {
    extract.destroy();
    await feeding.catch(() => undefined);
    throw wrap(err, `unpack layer ${basename(blobPath)} into ${target}`);
  }
  return { diffId: `sha256:${hasher.hash.digest('hex')}`, size: hasher.size };
}
