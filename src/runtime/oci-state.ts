// The OCI runtime's own record of a container (runc and crun keep it in `<root>/<namespace>/<id>`),
// removed by the runtime itself: the last step of every task removal, whatever the shim did or knew.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

/** The runtime root a runc shim uses when its handler names none. */
const DEFAULT_ROOT = '/run/containerd/runc';

export interface OciRuntimeRef {
  /** The runtime binary ('' = runc). */
  runtime: string;
  /** Its root ('' = the shims' default); the namespace is appended, as the shims do. */
  runtimeRoot: string;
  namespace: string;
}

export function ociStateDir(ref: OciRuntimeRef, id: string): string {
  return path.join(ref.runtimeRoot || DEFAULT_ROOT, ref.namespace, id);
}

/**
 * `<runtime> --root <root>/<ns> delete --force <id>`: kills what still runs of the container and
 * removes its state and cgroup. A `runc create` cut short (its shim's caller gone mid-create) leaves a
 * state directory no shim knows of; runc and crun remove that too. Nothing is run when the runtime
 * holds no state for the id, so a removal that finds nothing costs one stat.
 */
export async function deleteOciState(ref: OciRuntimeRef, id: string): Promise<void> {
  const dir = ociStateDir(ref, id);
  if (!fs.existsSync(dir)) return;
  await execa(ref.runtime || 'runc', ['--root', path.dirname(dir), 'delete', '--force', id], { reject: false });
}
