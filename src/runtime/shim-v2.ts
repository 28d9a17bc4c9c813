// Launching a shim v2 the way containerd 1.6 does: `<shim> … start` in the bundle with the runtime
// options on stdin, its output parsed forgivingly, the result saved for reconnect; for the runc v2
// shim, what its `start` does, done by crid itself; and `<shim> … delete` to clean up after a shim
// that died.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { deadlineExceeded, internal, invalidArgument, unimplemented } from '../errors.ts';
import { TtrpcClient } from '../ttrpc/client.ts';
import { decodeMessage, encodeMessage, type AnyMessage } from '../ttrpc/codec.ts';
import { TaskV2, exitFrom, type TaskApiVersion } from './task-v2.ts';
import type { ExitInfo } from './task-service.ts';
import { listenUnixSocket } from '../util/libc.ts';
import { type Spawned, spawnDaemon, spawnProcess } from '../util/spawn.ts';

export interface ShimV2Invocation {
  binary: string;
  bundle: string;
  id: string;
  namespace: string;
  /** -address: only an identity for the shim's socket name; keep it constant per node. */
  address: string;
  /** TTRPC_ADDRESS: crid's events socket. */
  eventsAddress: string;
  publishBinary: string;
  options?: AnyMessage;
  timeoutMs: number;
  debug?: boolean;
}

/** What `start` reported: the task API version, the address to dial and the protocol. */
export interface Bootstrap {
  version: number;
  address: string;
  protocol: string;
}

export const BOOTSTRAP_FILE = 'bootstrap.json';

/** The shim's arguments for an action, or for serving (no action) as its own `start` runs it. */
export function shimArgs(inv: ShimV2Invocation, action?: 'start' | 'delete'): string[] {
  return [
    '-namespace',
    inv.namespace,
    '-address',
    inv.address,
    '-publish-binary',
    inv.publishBinary,
    '-id',
    inv.id,
    ...(action === 'delete' ? ['-bundle', inv.bundle] : []),
    ...(inv.debug ? ['-debug'] : []),
    ...(action ? [action] : []),
  ];
}

export function shimEnv(inv: ShimV2Invocation, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...base,
    GOMAXPROCS: '2',
    TTRPC_ADDRESS: inv.eventsAddress,
    GRPC_ADDRESS: inv.address,
    NAMESPACE: inv.namespace,
    MAX_SHIM_VERSION: '2',
  };
}

const ADDRESS_PREFIX = /^(unix:\/\/|vsock:\/\/|hvsock:\/\/|\/)[\x21-\x7e]*$/;

function bootstrapFromJson(text: string): Bootstrap {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`shim start printed invalid bootstrap JSON ${JSON.stringify(text)}`, err);
  }
  const b = parsed as Partial<Bootstrap>;
  if (typeof b.address !== 'string' || !b.address) {
    throw invalidArgument(`shim start bootstrap JSON has no address: ${text}`);
  }
  return { version: Number(b.version ?? 2), address: b.address, protocol: b.protocol || 'ttrpc' };
}

function bootstrapFromProtobuf(output: Buffer): Bootstrap | undefined {
  try {
    const r = decodeMessage<Bootstrap>('containerd.runtime.bootstrap.v1.BootstrapResult', output);
    return ADDRESS_PREFIX.test(r.address)
      ? { version: r.version, address: r.address, protocol: r.protocol || 'ttrpc' }
      : undefined;
  } catch {
    return undefined;
  }
}

/** `start` output: bootstrap JSON, a bare address, or a protobuf BootstrapResult (containerd 2.3+). */
export function parseStartOutput(output: Buffer): Bootstrap {
  const text = output.toString('utf8').trim();
  if (text.startsWith('{')) return bootstrapFromJson(text);
  if (ADDRESS_PREFIX.test(text)) return { version: 2, address: text, protocol: 'ttrpc' };
  const fromProtobuf = bootstrapFromProtobuf(output);
  if (fromProtobuf) return fromProtobuf;
  throw invalidArgument(`shim start printed no address: ${JSON.stringify(text.slice(0, 200))}`);
}

interface ShimRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs the shim in its own process group; on timeout kills the whole group. */
async function runShim(inv: ShimV2Invocation, action: 'start' | 'delete', stdin: Buffer): Promise<ShimRun> {
  let child: Spawned;
  try {
    child = await spawnProcess(inv.binary, shimArgs(inv, action), {
      cwd: inv.bundle,
      env: shimEnv(inv),
      stdin: 'pipe',
      newSession: true,
    });
  } catch (err) {
    throw internal(`cannot run shim ${inv.binary}: ${(err as Error).message}`, err);
  }
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    child.stdin!.end(stdin);
    const timer = setTimeout(() => {
      killGroup(child.pid);
      const err = Buffer.concat(stderr).toString().trim();
      reject(
        deadlineExceeded(
          `shim ${inv.binary} ${action} for ${inv.id} did not finish within ${inv.timeoutMs} ms; killed${err ? `; stderr: ${err}` : ''}`,
        ),
      );
    }, inv.timeoutMs);
    void child.closed.then(({ code, signal }) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString().trim() });
    });
  });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function failure(inv: ShimV2Invocation, action: string, run: ShimRun): Error {
  const status = run.signal ? `killed by ${run.signal}` : `exit status ${run.code}`;
  const said = run.stderr || run.stdout.toString().trim() || 'no output';
  return internal(`shim ${path.basename(inv.binary)} ${action} for ${inv.id} failed (${status}): ${said}`);
}

/** `<shim> start`: returns the bootstrap of the (possibly already running, grouped) shim. */
export async function startShimV2(inv: ShimV2Invocation): Promise<Bootstrap> {
  const stdin = inv.options ? encodeMessage('google.protobuf.Any', inv.options) : Buffer.alloc(0);
  const run = await runShim(inv, 'start', stdin);
  if (run.code !== 0) throw failure(inv, 'start', run);
  try {
    return parseStartOutput(run.stdout);
  } catch (err) {
    throw internal(`${(err as Error).message}${run.stderr ? `; shim stderr: ${run.stderr}` : ''}`, err);
  }
}

/** Where containerd 1.6's shims make their sockets (`shim.SocketAddress`). */
const SOCKET_DIR = '/run/containerd/s';
const UNIX = 'unix://';

/** containerd-shim-runc-v2 names its socket after the sha256 of <-address>/<namespace>/<group>. */
export function runcShimSocketPath(address: string, namespace: string, group: string): string {
  return path.join(
    SOCKET_DIR,
    createHash('sha256')
      .update(path.join(address, namespace, group))
      .digest('hex'),
  );
}

export function runcShimAddress(address: string, namespace: string, group: string): string {
  return `${UNIX}${runcShimSocketPath(address, namespace, group)}`;
}

/**
 * What the runc v2 shim's `start` does for a pod's first task, done by crid: it saves a Go process per
 * pod (its start, its exec of the serving shim, its exit). The socket is made and listening before
 * the shim runs, so crid can send its first call at once; the shim serves it as its fd 3, in its own
 * session, with containerd's GOMAXPROCS=4, and reads the socket's address from the bundle's `address`
 * file to remove it when it shuts down. Its OOM score is one above crid's, as `start` sets it.
 */
export async function launchShimV2(inv: ShimV2Invocation, group: string): Promise<Bootstrap> {
  const address = runcShimAddress(inv.address, inv.namespace, group);
  const socketPath = address.slice(UNIX.length);
  let pid = 0;
  try {
    fs.writeFileSync(path.join(inv.bundle, 'address'), address);
    fs.mkdirSync(SOCKET_DIR, { recursive: true, mode: 0o700 });
    fs.rmSync(socketPath, { force: true });
    const fd = listenUnixSocket(socketPath);
    try {
      fs.chmodSync(socketPath, 0o600);
      ({ pid } = await spawnDaemon(inv.binary, shimArgs(inv), {
        cwd: inv.bundle,
        env: { ...shimEnv(inv), GOMAXPROCS: '4' },
        fd3: fd,
      }));
    } finally {
      fs.closeSync(fd);
    }
    adjustOomScore(pid);
  } catch (err) {
    if (pid) killGroup(pid);
    fs.rmSync(socketPath, { force: true });
    throw internal(`cannot start shim ${inv.binary} for ${inv.id}: ${(err as Error).message}`, err);
  }
  return { version: 2, address, protocol: 'ttrpc' };
}

function adjustOomScore(pid: number): void {
  const own = Number(fs.readFileSync('/proc/self/oom_score_adj', 'utf8'));
  fs.writeFileSync(`/proc/${pid}/oom_score_adj`, String(Math.min(own + 1, 1000)));
}

/** `<shim> delete` after a crash: kills what is left of the task; returns its exit. */
export async function deleteShimV2(inv: ShimV2Invocation): Promise<ExitInfo> {
  const run = await runShim(inv, 'delete', Buffer.alloc(0));
  if (run.code !== 0) throw failure(inv, 'delete', run);
  return exitFrom(decodeMessage('containerd.task.v2.DeleteResponse', run.stdout));
}

/** Synchronous: a few bytes to the page cache, on the way to every new task's Create. */
export function writeBootstrap(bundle: string, bootstrap: Bootstrap): void {
  const file = path.join(bundle, BOOTSTRAP_FILE);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(bootstrap));
  fs.renameSync(`${file}.tmp`, file);
}

/** The saved bootstrap, or the `address` file a 1.6 shim writes itself. */
export function readBootstrap(bundle: string): Bootstrap | undefined {
  try {
    return bootstrapFromJson(fs.readFileSync(path.join(bundle, BOOTSTRAP_FILE), 'utf8'));
  } catch {
    try {
      const address = fs.readFileSync(path.join(bundle, 'address'), 'utf8').trim();
      return address ? { version: 2, address, protocol: 'ttrpc' } : undefined;
    } catch {
      return undefined;
    }
  }
}

function taskApiVersion(bootstrap: Bootstrap): TaskApiVersion {
  if (bootstrap.version === 2 || bootstrap.version === 3) return bootstrap.version;
  throw unimplemented(`shim task API version ${bootstrap.version} at ${bootstrap.address} is not supported`);
}

export async function dialShimV2(bootstrap: Bootstrap, timeoutMs: number): Promise<TaskV2> {
  if (bootstrap.protocol !== 'ttrpc') {
    throw unimplemented(`shim at ${bootstrap.address} speaks ${bootstrap.protocol}; crid speaks ttrpc only`);
  }
  if (!bootstrap.address.startsWith('unix://') && !bootstrap.address.startsWith('/')) {
    throw unimplemented(`shim address ${bootstrap.address}: only unix sockets are supported`);
  }
  const client = await TtrpcClient.connect(bootstrap.address, timeoutMs);
  return new TaskV2(client, taskApiVersion(bootstrap), { timeoutMs });
}
