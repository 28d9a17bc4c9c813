// An image's VOLUMEs, as containerd makes them: a host directory per volume under
// <root>/containers/<id>/volumes, filled with what the image holds at that path (copy-up, ownership
// kept) and bind-mounted there, so the volume is not part of the container's writable layer.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from '../../util/command.ts';
import { wrap } from '../../errors.ts';
import type { Mount__Output } from '../../generated/runtime/v1/Mount.ts';
import type { Snapshotter } from '../../image/snapshotter.ts';

const MAX_SYMLINK_HOPS = 40;

export function containerRootDir(root: string, id: string): string {
  return path.join(root, 'containers', id);
}

/** Image volume paths the container's own mounts do not already cover, normalized. */
export function uncoveredVolumes(
  volumes: readonly string[],
  mounts: ReadonlyArray<Pick<Mount__Output, 'container_path'>>,
): string[] {
  const mounted = new Set(mounts.map((m) => path.posix.resolve('/', m.container_path ?? '')));
  const wanted = volumes.map((v) => path.posix.resolve('/', v)).filter((v) => v !== '/');
  return [...new Set(wanted)].filter((v) => !mounted.has(v));
}

/**
 * `containerPath` inside `root` the way the container will see it: symlinks are followed, absolute
 * ones from `root`, and `..` never climbs above it. undefined when the path does not exist.
 */
export async function resolveInRoot(root: string, containerPath: string): Promise<string | undefined> {
  const pending = containerPath.split('/');
  const resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const abs = path.join(root, ...resolved, part);
    const st = await fs.promises.lstat(abs).catch(() => undefined);
    if (st === undefined) return undefined;
    if (!st.isSymbolicLink()) {
      resolved.push(part);
      continue;
    }
    if (++hops > MAX_SYMLINK_HOPS) return undefined;
    const target = await fs.promises.readlink(abs);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...target.split('/'));
  }
  return path.join(root, ...resolved);
}

/**
 * Makes one host directory per volume, copied up from the container's snapshot (mounted read-only for
 * the copy), and returns them as CRI mounts. The caller removes `dir` on failure and on removal.
 */
export async function prepareImageVolumes(
  snapshotter: Snapshotter,
  snapshotKey: string,
  dir: string,
  volumes: readonly string[],
): Promise<Mount__Output[]> {
  if (volumes.length === 0) return [];
  const view = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'crid-volumes-'));
  try {
    await snapshotter.mount(snapshotKey, view);
    try {
      return await Promise.all(volumes.map((v, i) => copyUp(view, v, path.join(dir, 'volumes', String(i)))));
    } finally {
      await snapshotter.unmount(view);
    }
  } finally {
    await fs.promises.rm(view, { recursive: true, force: true });
  }
}

async function copyUp(view: string, containerPath: string, hostPath: string): Promise<Mount__Output> {
  await fs.promises.mkdir(hostPath, { recursive: true, mode: 0o755 });
  const source = await resolveInRoot(view, containerPath);
  const st = source === undefined ? undefined : await fs.promises.stat(source);
  if (source !== undefined && st?.isDirectory()) {
    // cp -a keeps owners, modes and times, and copies symlinks inside the volume as symlinks.
    await runCommand('cp', ['-a', '--', `${source}/.`, hostPath]).catch((err: unknown) => {
      throw wrap(err, `copy the image's content of volume ${containerPath}`);
    });
    await fs.promises.chown(hostPath, st.uid, st.gid);
    await fs.promises.chmod(hostPath, st.mode & 0o7777);
  }
  return volumeMount(containerPath, hostPath);
}

function volumeMount(containerPath: string, hostPath: string): Mount__Output {
  return {
    container_path: containerPath,
    host_path: hostPath,
    readonly: false,
    selinux_relabel: false,
    propagation: 'PROPAGATION_PRIVATE',
    uidMappings: [],
    gidMappings: [],
    recursive_read_only: false,
    image: null,
    image_sub_path: '',
  };
}
