// ExecSync: run a command in a running container, collect its output (capped), honour the timeout.
import { PassThrough } from 'node:stream';
import type { ExecSyncRequest__Output } from '../../generated/runtime/v1/ExecSyncRequest.ts';
import type { ExecSyncResponse } from '../../generated/runtime/v1/ExecSyncResponse.ts';
import { deadlineExceeded, invalidArgument, isKind } from '../../errors.ts';
import type { RpcContext } from '../../server/rpc.ts';
import type { PodDeps } from '../../pod/deps.ts';
import { execInContainer } from '../../pod/container/exec.ts';
import { timerDelayMs } from '../../util/time.ts';

/** Per stream, as CRI-O's and containerd's exec-sync limits. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** A Writable keeping at most `limit` bytes (ExecSync's output buffers). */
export class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  push(chunk: Buffer): void {
    const room = this.limit - this.size;
    if (room <= 0) return;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(kept);
    this.size += kept.length;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function collector(): { stream: PassThrough; buffer: CappedBuffer } {
  const buffer = new CappedBuffer(MAX_OUTPUT_BYTES);
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => buffer.push(chunk));
  return { stream, buffer };
}

export function execSyncRpc(deps: PodDeps) {
  return async (req: ExecSyncRequest__Output, ctx: RpcContext): Promise<ExecSyncResponse> => {
    if (!req.container_id) throw invalidArgument('container_id is required');
    if (!req.cmd?.length) throw invalidArgument('ExecSync: cmd is required');
    const timeoutSeconds = Number(req.timeout);
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 0)
      throw invalidArgument(`ExecSync: timeout ${req.timeout} is not a number of seconds`);
    const timeout = timeoutSeconds > 0 ? AbortSignal.timeout(timerDelayMs(timeoutSeconds)) : undefined;
    const signal = timeout ? AbortSignal.any([ctx.signal, timeout]) : ctx.signal;
    const stdout = collector();
    const stderr = collector();
    try {
      const { exitCode } = await execInContainer(
        deps,
        req.container_id,
        req.cmd,
        { stdout: stdout.stream, stderr: stderr.stream, tty: false },
        signal,
      );
      return { stdout: stdout.buffer.bytes(), stderr: stderr.buffer.bytes(), exit_code: exitCode };
    } catch (err) {
      if (timeout?.aborted && isKind(err, 'Canceled')) throw deadlineExceeded(`timeout ${timeoutSeconds}s exceeded`);
      throw err;
    }
  };
}
