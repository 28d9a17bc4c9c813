import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface DiskUsage {
  /** Allocated bytes (st_blocks × 512), each inode counted once. */
  bytes: bigint;
  inodes: bigint;
}

/** du-style usage of a tree; a missing tree uses nothing. */
export async function diskUsage(root: string): Promise<DiskUsage> {
  const seen = new Set<bigint>();
  let bytes = 0n;
  const walk = async (path: string): Promise<void> => {
    const st = await lstat(path, { bigint: true }).catch(() => undefined);
    if (st === undefined || seen.has(st.ino)) return;
    seen.add(st.ino);
    bytes += st.blocks * 512n;
    if (!st.isDirectory()) return;
    const names = await readdir(path).catch(() => [] as string[]);
    for (const name of names) await walk(join(path, name));
  };
  await walk(root);
  return { bytes, inodes: BigInt(seen.size) };
}
