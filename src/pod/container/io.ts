// A container's stdio: FIFOs the shim writes, crid's CRI log writer reading them, and client streams
// fed into a process's stdin FIFO (exec and attach).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { CriLogWriter } from '../../logs/cri-log.ts';
import type { ContainerRecord } from '../../store/container.ts';
import { failedPrecondition } from '../../errors.ts';
import type { PodDeps } from '../deps.ts';

/** Where a container's (and its execs') stdio FIFOs live. */
export function containerIoDir(stateDir: string, id: string): string {
  return path.join(stateDir, 'io', id);
}

export function stdioPaths(ioDir: string, id: string, stdin: boolean) {
  return {
    stdin: stdin ? path.join(ioDir, `${id}-stdin`) : '',
    stdout: path.join(ioDir, `${id}-stdout`),
    stderr: path.join(ioDir, `${id}-stderr`),
  };
}

/** Starts copying the container's output into its CRI log file (and to attached clients). */
export function attachContainerLogs(deps: PodDeps, c: ContainerRecord): CriLogWriter {
  const existing = deps.logWriters.get(c.id);
  if (existing) return existing;
  const io = stdioPaths(c.ioDir, c.id, false);
  const writer = new CriLogWriter(c.logPath || '/dev/null');
  // containerd's max_container_log_line_size: -1 (any value ≤ 0) means lines are never split.
  const limit = deps.config().max_container_log_line_size;
  const maxLine = limit > 0 ? limit : Number.POSITIVE_INFINITY;
  writer.attachFifo(io.stdout, 'stdout', maxLine);
  if (!c.config.tty) writer.attachFifo(io.stderr, 'stderr', maxLine);
  deps.logWriters.set(c.id, writer);
  return writer;
}

/** ReopenContainerLog's verb: after kubelet renamed the log file for rotation, write into a new one. */
export function reopenContainerLog(deps: PodDeps, idOrPrefix: string): void {
  const container = deps.containers.get(idOrPrefix);
  if (container.state !== 'CONTAINER_RUNNING') throw failedPrecondition(`container ${container.id} is not running`);
  const writer = deps.logWriters.get(container.id);
  if (!writer) throw failedPrecondition(`container ${container.id} has no open log`);
  writer.reopen();
}

/**
 * crid is stopping while containers keep running: copy what the FIFOs hold into the logs and let go
 * of them (the shims keep the FIFOs open, so output waits in the pipes for the next crid).
 */
export function closeContainerLogs(deps: PodDeps): void {
  for (const writer of deps.logWriters.values()) writer.finish();
  deps.logWriters.clear();
}

/**
 * Feeds `input` into a stdin FIFO. O_RDWR opens without waiting for the shim's reader; `onEnd` runs
 * when the client's stream ends (the caller then closes the process's stdin through the shim).
 */
export function pipeIntoFifo(input: Readable, fifoPath: string, onEnd: () => void): () => void {
  const fd = fs.openSync(fifoPath, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  const socket = new net.Socket({ fd, readable: false, writable: true });
  socket.on('error', () => {});
  // Close our writer once the last write has flushed: a FIFO has no shutdown(2) for end() to use,
  // and the process sees EOF only when every writer is gone.
  const end = () => {
    if (socket.writableLength === 0) socket.destroy();
    else socket.once('drain', () => socket.destroy());
    onEnd();
  };
  input.on('data', (chunk: Buffer) => socket.write(chunk));
  input.once('end', end);
  input.once('error', end);
  return () => {
    input.off('end', end);
    input.off('error', end);
    socket.destroy();
  };
}
