// Launching the legacy containerd-shim (containerd's io.containerd.runtime.v1.linux): crid binds the
// shim's socket and hands it over as fd 3; the shim stays crid's child; its events come back through
// `<crid> publish` (the -containerd-binary). Address and pid are saved in the bundle for reconnect.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { deleteOciState } from './oci-state.ts';
import { internal, wrap } from '../errors.ts';
import type { Logger } from '../log.ts';
import { TtrpcClient } from '../ttrpc/client.ts';
import { drainFifoToLog, mkfifo } from './fifo.ts';
import { TaskV1 } from './task-v1.ts';

export interface ShimV1Invocation {
  binary: string;
  bundle: string;
  workdir: string;
  id: string;
  namespace: string;
  /** Where the shim's sockets go (crid's state dir), not /run/containerd/s. */
  socketDir: string;
  /** -address: crid's events socket, handed back to `<publishBinary> publish`. */
  eventsAddress: string;
  publishBinary: string;
  /** OCI runtime binary ('' = runc) and its root ('' = the shim's default /run/containerd/runc). */
  runtime: string;
  runtimeRoot: string;
  systemdCgroup: boolean;
  timeoutMs: number;
  debug?: boolean;
}

export interface ShimV1Process {
  task: TaskV1;
  pid: number;
  address: string;
}

export function shimV1Args(inv: ShimV1Invocation): string[] {
  return [
    '-namespace',
    inv.namespace,
    '-workdir',
    inv.workdir,
    '-address',
    inv.eventsAddress,
    '-containerd-binary',
    inv.publishBinary,
    ...(inv.runtimeRoot ? ['-runtime-root', inv.runtimeRoot] : []),
    ...(inv.systemdCgroup ? ['-systemd-cgroup'] : []),
    ...(inv.debug ? ['-debug'] : []),
  ];
}

export function shimV1SocketPath(inv: ShimV1Invocation): string {
  const hash = createHash('sha256')
    .update(path.join(inv.eventsAddress, inv.namespace, inv.id))
    .digest('hex');
  return path.join(inv.socketDir, hash);
}

async function bindListener(socketPath: string): Promise<net.Server> {
  await fs.promises.mkdir(path.dirname(socketPath), { recursive: true, mode: 0o711 });
  await fs.promises.rm(socketPath, { force: true });
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ path: socketPath, backlog: 64 }, () => resolve());
  });
  return server;
}

function listenerFd(server: net.Server): number {
  // net.Server exposes no public accessor for its descriptor.
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw internal('cannot get the shim listener descriptor');
  return fd;
}

/** The shim logs into two FIFOs in its workdir; crid keeps them drained. */
async function shimLogFifos(
  workdir: string,
  log: Logger,
): Promise<{ out: number; err: number; readers: net.Socket[] }> {
  const fds: number[] = [];
  const readers: net.Socket[] = [];
  for (const name of ['shim.stdout.log', 'shim.stderr.log']) {
    const fifo = path.join(workdir, name);
    if (!fs.existsSync(fifo)) mkfifo(fifo);
    readers.push(drainFifoToLog(fifo, log));
    fds.push(fs.openSync(fifo, fs.constants.O_RDWR));
  }
  return { out: fds[0]!, err: fds[1]!, readers };
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function killPid(pid: number, child?: ChildProcess): Promise<void> {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  if (child) await waitForExit(child);
}

export async function startShimV1(inv: ShimV1Invocation, log: Logger): Promise<ShimV1Process> {
  await fs.promises.mkdir(inv.workdir, { recursive: true, mode: 0o711 });
  const socketPath = shimV1SocketPath(inv);
  const tmpPath = `${socketPath}.tmp`;
  const listener = await bindListener(tmpPath);
  const logs = await shimLogFifos(inv.workdir, log);
  let child: ChildProcess;
  try {
    child = spawn(inv.binary, shimV1Args(inv), {
      cwd: inv.bundle,
      env: { ...process.env, GOMAXPROCS: '2' },
      stdio: ['ignore', logs.out, logs.err, listenerFd(listener)],
      detached: true,
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(wrap(err, `cannot run legacy shim ${inv.binary}`)));
    });
    await fs.promises.rename(tmpPath, socketPath);
  } finally {
    fs.closeSync(logs.out);
    fs.closeSync(logs.err);
    listener.close();
  }
  child.unref();
  child.once('exit', () => {
    for (const r of logs.readers) r.destroy();
  });
  const pid = child.pid!;
  const address = `unix://${socketPath}`;
  await fs.promises.writeFile(path.join(inv.bundle, 'address'), address);
  await fs.promises.writeFile(path.join(inv.bundle, 'shim.pid'), String(pid));
  try {
    return { task: await dialShimV1(inv, address, pid, child), pid, address };
  } catch (err) {
    await killPid(pid, child);
    throw err;
  }
}

/** Connects to a running legacy shim (after `startShimV1`, or on reconnect from the bundle files). */
export async function dialShimV1(
  inv: ShimV1Invocation,
  address: string,
  pid: number,
  child?: ChildProcess,
): Promise<TaskV1> {
  const client = await TtrpcClient.connect(address, inv.timeoutMs);
  return new TaskV1(client, {
    timeoutMs: inv.timeoutMs,
    runtime: inv.runtime,
    killShim: async () => {
      await killPid(pid, child);
      await fs.promises.rm(address.replace(/^unix:\/\//, ''), { force: true });
    },
  });
}

export async function readShimV1Files(bundle: string): Promise<{ address: string; pid: number } | undefined> {
  try {
    const address = (await fs.promises.readFile(path.join(bundle, 'address'), 'utf8')).trim();
    const pid = Number((await fs.promises.readFile(path.join(bundle, 'shim.pid'), 'utf8')).trim());
    return address && pid > 0 ? { address, pid } : undefined;
  } catch {
    return undefined;
  }
}

/** After the shim died: what containerd does, `<runtime> --root <root>/<ns> delete --force <id>`. */
export async function cleanupDeadShimV1(inv: ShimV1Invocation): Promise<void> {
  await deleteOciState(inv, inv.id);
  const files = await readShimV1Files(inv.bundle);
  if (files) await fs.promises.rm(files.address.replace(/^unix:\/\//, ''), { force: true });
}
