// A container's stdio: FIFOs the shim writes, and crid's CRI log writer reading them.
import path from 'node:path';
import { CriLogWriter } from '../../logs/cri-log.ts';
import type { ContainerRecord } from '../../store/container.ts';
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

/**
 * crid is stopping while containers keep running: copy what the FIFOs hold into the logs and let go
 * of them (the shims keep the FIFOs open, so output waits in the pipes for the next crid).
 */
export function closeContainerLogs(deps: PodDeps): void {
  for (const writer of deps.logWriters.values()) writer.finish();
  deps.logWriters.clear();
}
