// Path checks for layer extraction: names are relative and free of `..`, and every parent
// directory is looked at with lstat, following only relative symlinks that stay inside the root.
import { lstat, mkdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { invalidArgument } from '../errors.ts';

const MAX_SYMLINK_HOPS = 40;

/**
 * The components of a tar entry name. Absolute names and `..` components are rejected rather than
 * rewritten (containerd strips a leading `/`; crid treats it as a malformed layer).
 */
export function entryComponents(name: string): string[] {
  if (name.includes('\0')) throw invalidArgument(`layer entry ${JSON.stringify(name)}: NUL in name`);
  if (name.startsWith('/')) throw invalidArgument(`layer entry ${JSON.stringify(name)}: absolute path`);
  const parts = name.split('/').filter((c) => c !== '' && c !== '.');
  if (parts.includes('..')) throw invalidArgument(`layer entry ${JSON.stringify(name)}: ".." component`);
  return parts;
}

async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * The absolute path of directory `components` inside `root`. Missing directories are created when
 * `create` is set; symlinks on the way are followed only when relative and inside the root.
 */
export async function resolveDirectory(
  root: string,
  components: string[],
  create: boolean,
  entry: string,
): Promise<string> {
  const refuse = (why: string) => invalidArgument(`layer entry ${JSON.stringify(entry)}: ${why}`);
  const resolved: string[] = [];
  const pending = [...components];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (resolved.length === 0) throw refuse('a symlink on its path leads outside the layer');
      resolved.pop();
      continue;
    }
    const abs = join(root, ...resolved, part);
    const st = await lstatOrUndefined(abs);
    if (st === undefined) {
      if (!create) throw refuse(`${join(...resolved, part)} does not exist`);
      await mkdir(abs, { mode: 0o755 });
      resolved.push(part);
    } else if (st.isSymbolicLink()) {
      if (++hops > MAX_SYMLINK_HOPS) throw refuse('too many symlinks on its path');
      const target = await readlink(abs);
      if (target.startsWith('/'))
        throw refuse(`its path goes through ${join(...resolved, part)} -> ${target}, an absolute symlink`);
      pending.unshift(...target.split('/'));
    } else if (st.isDirectory()) {
      resolved.push(part);
    } else {
      throw refuse(`${join(...resolved, part)} is not a directory`);
    }
  }
  return join(root, ...resolved);
}
