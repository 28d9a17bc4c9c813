// A task's bundle directory: `<state>/tasks/<ns>/<id>` holding config.json, rootfs/ and the `log`
// FIFO the shim writes its own log to. The basename must equal the task id: `<shim> delete`
// recomputes the bundle as dirname(cwd)/<id>.
import fs from 'node:fs';
import path from 'node:path';
import { MNT_DETACH, umount } from '../util/libc.ts';
import { wrap } from '../errors.ts';
import type { Logger } from '../log.ts';
import { drainFifoToLog, mkfifo } from './fifo.ts';
import type net from 'node:net';
import { serializeSpec, type Spec } from '../oci/spec-types.ts';

export function bundleDir(stateDir: string, namespace: string, id: string): string {
  return path.join(stateDir, 'tasks', namespace, id);
}

/**
 * Creates the bundle with its config.json and an empty rootfs/ (0711, as containerd does); `spec` is
 * a spec, or config.json's exact text. Synchronous: see writeSandboxFiles.
 */
export function createBundle(dir: string, spec: object | string): void {
  try {
    fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o711 });
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.writeFileSync(path.join(dir, 'config.json'), typeof spec === 'string' ? spec : serializeSpec(spec as Spec));
    fs.mkdirSync(path.join(dir, 'rootfs'), { recursive: true, mode: 0o711 });
  } catch (err) {
    throw wrap(err, `cannot create bundle ${dir}`);
  }
}

/** The FIFO a shim started in the bundle writes its own log to. */
const shimLogFifo = (dir: string) => path.join(dir, 'log');

/**
 * Creates `<bundle>/log` and keeps it open for reading: without the FIFO the shim exits silently,
 * and without a reader it blocks before serving.
 */
export async function openShimLog(dir: string, log: Logger): Promise<net.Socket> {
  const fifo = shimLogFifo(dir);
  if (!fs.existsSync(fifo)) mkfifo(fifo);
  return drainFifoToLog(fifo, log);
}

/**
 * After a restart: reads `<bundle>/log` again if the task's shim was started with one (a task that
 * joined its pod's shim has none).
 */
export async function reopenShimLog(dir: string, log: Logger): Promise<net.Socket | undefined> {
  const fifo = shimLogFifo(dir);
  return fs.existsSync(fifo) ? drainFifoToLog(fifo, log) : undefined;
}

/** Mount points at or below dir, deepest first, from /proc/self/mountinfo. */
export function mountsUnder(dir: string): string[] {
  const prefix = path.resolve(dir);
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((mp): mp is string => !!mp)
    .map((mp) => mp.replace(/\\(\d{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))))
    .filter((mp) => mp === prefix || mp.startsWith(`${prefix}/`))
    .sort((a, b) => b.length - a.length);
}

/**
 * Unmounts whatever is still mounted inside the bundle, then removes it. Like a pod's other small
 * trees (its files, /dev/shm, FIFOs), with synchronous calls: Node's asynchronous rm makes a
 * thread-pool round trip of every lstat, readdir, unlink and rmdir, which cost crid more CPU than the
 * calls. A snapshot's writable layer, of any size, is still removed asynchronously.
 */
export function removeBundle(dir: string): void {
  for (const mountPoint of mountsUnder(dir)) {
    try {
      umount(mountPoint, MNT_DETACH);
    } catch (err) {
      throw wrap(err, `cannot unmount ${mountPoint} in bundle ${dir}`);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
