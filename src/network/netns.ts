// Named, persistent network namespaces for pods, kept where iproute2 keeps them
// (/run/netns/<name>, a bind mount of the namespace) so they outlive crid.
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { invalidArgument, wrap } from '../errors.ts';
import { createNetnsAt, MNT_DETACH, umount } from '../util/libc.ts';

export const NETNS_DIR = '/run/netns';
/** Every namespace crid creates is named `<prefix><uuid>`; the prefix tells crid's apart. */
export const NETNS_PREFIX = 'crid-';

/**
 * The prefix of one crid instance's namespaces (keyed by its state dir): recovery removes the
 * orphans of its own instance only, never the namespaces of another crid on the same host.
 */
export function instanceNetnsPrefix(stateDir: string): string {
  return `${NETNS_PREFIX}${createHash('sha256').update(stateDir).digest('hex').slice(0, 8)}-`;
}

function checkNetnsPath(netnsPath: string): void {
  if (!netnsPath.startsWith(`${NETNS_DIR}/`) && !netnsPath.startsWith(`/var${NETNS_DIR}/`)) {
    throw invalidArgument(`network namespace path ${netnsPath} is not under ${NETNS_DIR}`);
  }
}

/** A new namespace's path, known before the namespace exists (specs and records name it). */
export function netnsPathFor(prefix = NETNS_PREFIX): string {
  return join(NETNS_DIR, `${prefix}${randomUUID()}`);
}

/** Creates the network namespace `netnsPath` (a new name by default) with `lo` up; returns its path. */
export async function createNetns(netnsPath = netnsPathFor()): Promise<string> {
  checkNetnsPath(netnsPath);
  await mkdir(dirname(netnsPath), { recursive: true, mode: 0o755 });
  await writeFile(netnsPath, '', { flag: 'wx', mode: 0 });
  try {
    createNetnsAt(netnsPath);
  } catch (err) {
    await rm(netnsPath, { force: true });
    throw wrap(err, `cannot create network namespace ${netnsPath}`);
  }
  return netnsPath;
}

export async function netnsExists(netnsPath: string): Promise<boolean> {
  try {
    await stat(netnsPath);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

const NSFS_MAGIC = 0x6e736673;

/**
 * Whether a network namespace is mounted at the path. A crash between making the empty file a
 * namespace is mounted on and mounting it leaves a plain file there, which holds no network.
 */
export async function netnsMounted(netnsPath: string): Promise<boolean> {
  try {
    return (await statfs(netnsPath)).type === NSFS_MAGIC;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Unmounts and removes a namespace (or the file left for one); one that is already gone is success. */
export async function removeNetns(netnsPath: string): Promise<void> {
  checkNetnsPath(netnsPath);
  if (!(await netnsExists(netnsPath))) return;
  // As `ip netns delete`: a detached unmount, so a process still holding the namespace never blocks it.
  try {
    umount(netnsPath, MNT_DETACH);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL')
      throw wrap(err, `cannot remove network namespace ${netnsPath}`);
  }
  await rm(netnsPath, { force: true });
}

/** Paths of the namespaces named with `prefix` (by default: of any crid) that still exist. */
export async function listNetns(prefix = NETNS_PREFIX): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(NETNS_DIR);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.filter((n) => n.startsWith(prefix)).map((n) => join(NETNS_DIR, n));
}
