// Crash-safe JSON records: write a temp file, fsync it, rename it over the old one, fsync the dir.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { setImmediate } from 'node:timers/promises';
import { promisify } from 'node:util';

/**
 * `durable: false` leaves out both fsyncs, for a state that recovery does not need after a power
 * loss (a later durable write of the record carries it): the rename still keeps the file whole.
 * Only the fsyncs, which wait for the disk, go to the thread pool: a record is a few KiB written to
 * the page cache, where a synchronous call costs less than the round trip to the pool and back.
 */
export async function writeJsonAtomic(file: string, value: unknown, { durable = true } = {}): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openNew(tmp);
  try {
    fs.writeFileSync(fd, JSON.stringify(value));
    if (durable) await fsync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  if (durable) await syncDir(dir);
}

/** Creates the file, and its directory when that is missing. */
function openNew(file: string): number {
  try {
    return fs.openSync(file, 'w', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    return fs.openSync(file, 'w', 0o600);
  }
}

const fsync = promisify(fs.fsync);

async function syncDir(dir: string): Promise<void> {
  const fd = fs.openSync(dir, 'r');
  try {
    await fsync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Every `*.json` record in a directory that `isValid` accepts (and is an object with a string id);
 * leftovers of interrupted writes are removed. Each file is read with synchronous calls, as records
 * are written: at a start with 100 pods, reading them through the thread pool (open, fstat, read,
 * close, each a round trip) cost crid more CPU than the reads. The loop yields between batches, so
 * that crid answers Version and lists meanwhile.
 */
export async function readJsonRecords<T>(
  dir: string,
  isValid: (value: object) => boolean = () => true,
): Promise<{ records: T[]; broken: string[] }> {
  const names = listDir(dir);
  const records: T[] = [];
  const broken: string[] = [];
  for (const [i, name] of names.entries()) {
    if (i > 0 && i % FILES_PER_TURN === 0) await setImmediate();
    const file = path.join(dir, name);
    if (name.endsWith('.tmp')) {
      fs.rmSync(file, { force: true });
      continue;
    }
    if (!name.endsWith('.json')) continue;
    try {
      const value: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (isRecord(value) && isValid(value)) records.push(value as T);
      else broken.push(file);
    } catch {
      broken.push(file);
    }
  }
  return { records, broken };
}

/** Records read before the load lets the event loop turn. */
const FILES_PER_TURN = 4;

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function isRecord(value: unknown): value is object {
  return typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string';
}

/** Removes a record durably: a crash after this cannot bring it back. */
export async function removeRecord(file: string): Promise<void> {
  fs.rmSync(file, { force: true });
  await syncDir(path.dirname(file));
}
