// Where the systemd cgroup driver puts a cgroup. An OCI cgroupsPath in runc's systemd form
// ("slice:prefix:name") and kubelet's systemd pod parents ("kubepods-burstable-pod<uid>.slice")
// name systemd units, not directories: the directory is the slice's ancestry followed by the unit.
import path from 'node:path';

const SLICE = '.slice';

/** runc's ExpandSlice: "a-b-c.slice" → "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" is the root. */
export function expandSlice(slice: string): string | undefined {
  if (!slice.endsWith(SLICE) || slice.includes('/')) return undefined;
  const name = slice.slice(0, -SLICE.length);
  if (name === '-') return '/';
  const parts = name.split('-');
  if (parts.some((p) => p === '')) return undefined;
  return parts.map((_, i) => `/${parts.slice(0, i + 1).join('-')}${SLICE}`).join('');
}

/** The unit runc creates for "slice:prefix:name": the name itself when it is a slice, else a scope. */
function unitName(prefix: string, name: string): string {
  if (name.endsWith(SLICE)) return name;
  return prefix ? `${prefix}-${name}.scope` : `${name}.scope`;
}

/**
 * The path below the cgroup mount of a cgroupsPath or cgroup parent: systemd's forms expanded, a
 * plain path as it is. runc places an empty slice under system.slice.
 */
export function cgroupRelativePath(cgroupsPath: string): string {
  const systemd = cgroupsPath.split(':');
  if (systemd.length === 3 && !cgroupsPath.startsWith('/')) {
    const [slice, prefix, name] = systemd as [string, string, string];
    const parent = expandSlice(slice || 'system.slice');
    if (parent !== undefined) return path.posix.join(parent, unitName(prefix, name));
  }
  return expandSlice(cgroupsPath) ?? cgroupsPath;
}
