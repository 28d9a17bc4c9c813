// Running a process in a container (ExecSync, and Exec through the streaming server) and attaching to
// a container's own stdio (Attach). Both take Node streams, matching the streaming server's
// StreamingRuntime: exec(containerId, cmd, io, signal) and attach(containerId, io, signal).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { canceled, failedPrecondition, isKind } from '../../errors.ts';
import { execProcessSpec } from '../../oci/exec-spec.ts';
import { FifoReader, createStdioFifos } from '../../runtime/fifo.ts';
import type { ShimTask } from '../../runtime/shim-manager.ts';
import type { ContainerRecord } from '../../store/container.ts';
import type { StreamingRuntime } from '../../streaming/runtime.ts';
import type { PodDeps } from '../deps.ts';
import { pipeIntoFifo, stdioPaths } from './io.ts';

const SIGKILL = 9;

export interface ProcessStreams {
  stdin?: Readable;
  stdout?: Writable;
  /** Never used with tty. */
  stderr?: Writable;
  tty: boolean;
  resize?: AsyncIterable<{ width: number; height: number }>;
}

function runningContainer(deps: PodDeps, containerId: string): { container: ContainerRecord; shimTask: ShimTask } {
  const container = deps.containers.get(containerId);
  if (container.state !== 'CONTAINER_RUNNING')
    throw failedPrecondition(`container ${container.id} is not running (${container.state})`);
  const shimTask = deps.shims.get(container.id);
  if (!shimTask) throw failedPrecondition(`container ${container.id} has no task (its shim is gone)`);
  return { container, shimTask };
}

/**
 * Runs `cmd` as the container's process until it exits; returns its exit code. When `signal` aborts
 * the process is killed, cleaned up, and a Canceled error is thrown.
 */
export async function execInContainer(
  deps: PodDeps,
  containerId: string,
  cmd: string[],
  io: ProcessStreams,
  signal: AbortSignal,
): Promise<{ exitCode: number }> {
  const { container, shimTask } = runningContainer(deps, containerId);
  // Hold the client's input from the first moment: it may arrive (and end) while the exec is created.
  const stdin = io.stdin?.pipe(new PassThrough());
  const id = container.id;
  const task = shimTask.task;
  const execId = `exec-${randomBytes(12).toString('hex')}`;
  const fifos = createStdioFifos(container.ioDir, execId, !!io.stdin);
  // The runc shim needs both output FIFOs whenever one stream is set (an empty path is opened as a
  // file); what the client did not ask for is read and dropped.
  const outputs = [readerInto(fifos.stdout, io.stdout), io.tty ? undefined : readerInto(fifos.stderr, io.stderr)];
  let stopStdin = () => {};
  let created = false;
  try {
    const process = execProcessSpec(container.process, cmd, io.tty);
    await task.exec({
      id,
      execId,
      process,
      io: {
        stdin: fifos.stdin,
        stdout: fifos.stdout,
        stderr: io.tty ? '' : fifos.stderr,
        terminal: io.tty,
      },
    });
    created = true;
    const exited = task.wait(id, execId);
    exited.catch(() => {});
    await task.start(id, execId);
    // Only a started exec has the shim's ends of the stdin FIFO open: bytes written earlier would be
    // dropped with the pipe, and a CloseIO sent earlier would be a no-op that leaves stdin open forever.
    if (stdin) stopStdin = pipeIntoFifo(stdin, fifos.stdin, () => void task.closeIO(id, execId).catch(() => {}));
    if (io.resize) void forwardResizes(io.resize, (w, h) => task.resizePty(id, execId, w, h));
    const exit = await untilExitOrAbort(exited, signal, () => task.kill(id, SIGKILL, { execId }));
    return { exitCode: exit.exitStatus };
  } finally {
    stopStdin();
    if (created)
      await task.delete(id, execId).catch((err: unknown) => {
        if (!isKind(err, 'NotFound')) deps.log.debug({ err, containerId: id, execId }, 'delete of exec failed');
      });
    for (const output of outputs) output?.finish();
    await Promise.all(
      Object.values(fifos)
        .filter(Boolean)
        .map((f) => fs.promises.rm(f, { force: true })),
    );
  }
}

/** A FIFO copied into `out`, or read and dropped when the client did not ask for that stream. */
function readerInto(fifo: string, out: Writable | undefined): FifoReader {
  return new FifoReader(fifo, out ? (chunk) => out.write(chunk) : () => {});
}

/** Waits for `exited`; on abort kills the process, waits for its exit, and throws Canceled. */
async function untilExitOrAbort<T>(exited: Promise<T>, signal: AbortSignal, kill: () => Promise<void>): Promise<T> {
  let onAbort = () => {};
  const aborted = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted');
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const first = await Promise.race([exited, aborted]);
    if (first !== 'aborted') return first as T;
    await kill().catch(() => {});
    await exited.catch(() => {});
    throw canceled(`process aborted: ${String(signal.reason ?? 'cancelled')}`);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

async function forwardResizes(
  sizes: AsyncIterable<{ width: number; height: number }>,
  resize: (w: number, h: number) => Promise<void>,
): Promise<void> {
  try {
    for await (const size of sizes) await resize(size.width, size.height).catch(() => {});
  } catch {
    // the client's resize stream failed: the terminal keeps its size
  }
}

/**
 * How long an attach still relays output after its client closed stdin without stdin_once: the
 * process's answer to the last input is usually on its way (`echo cmd | crictl attach -i`).
 */
const STDIN_CLOSED_LINGER_MS = 1000;

/**
 * Streams a running container's output, byte for byte as the process writes it, to `io`, and
 * `io.stdin` into its stdin FIFO (when the container was created with stdin), until the container
 * exits or `signal` aborts. When the client closes stdin, containerd's rules apply: with stdin_once
 * (and no tty) the process's stdin is closed and the output keeps flowing until it exits; otherwise
 * the client is detached.
 */
export async function attachToContainer(
  deps: PodDeps,
  containerId: string,
  io: ProcessStreams,
  signal: AbortSignal,
): Promise<void> {
  const { container, shimTask } = runningContainer(deps, containerId);
  const id = container.id;
  const writer = deps.logWriters.get(id);
  if (!writer) throw failedPrecondition(`container ${id} has no output stream to attach to`);
  const unsubscribe = writer.onOutput((stream, chunk) => (stream === 'stderr' ? io.stderr : io.stdout)?.write(chunk));
  let stopStdin = () => {};
  let linger: NodeJS.Timeout | undefined;
  const detached = new Promise<void>((detach) => {
    if (!io.stdin || !container.config.stdin) return;
    const fifo = stdioPaths(container.ioDir, id, true).stdin;
    stopStdin = pipeIntoFifo(io.stdin, fifo, () => {
      if (container.config.stdin_once && !io.tty) void shimTask.task.closeIO(id, '').catch(() => {});
      else linger = setTimeout(detach, STDIN_CLOSED_LINGER_MS);
    });
  });
  if (io.resize) void forwardResizes(io.resize, (w, h) => shimTask.task.resizePty(id, '', w, h));
  try {
    await untilExitOrAbort(Promise.race([deps.monitor.waitForExit(id), detached]), signal, async () => {});
  } catch (err) {
    if (!isKind(err, 'Canceled')) throw err;
  } finally {
    clearTimeout(linger);
    unsubscribe();
    stopStdin();
  }
}

/** The container half of the streaming server's runtime (port-forward belongs to the pod network). */
export function containerStreaming(deps: PodDeps): Pick<StreamingRuntime, 'exec' | 'attach'> {
  return {
    exec: (containerId, cmd, io, signal) => execInContainer(deps, containerId, cmd, io, signal),
    attach: (containerId, io, signal) => attachToContainer(deps, containerId, io, signal),
  };
}
