// An exec or attach session, whatever the transport: runs it through the runtime with the
// client's streams, reports how it ended, and aborts it when the client goes away.
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { AttachRequest__Output } from '../generated/runtime/v1/AttachRequest.ts';
import type { ExecRequest__Output } from '../generated/runtime/v1/ExecRequest.ts';
import type { Logger } from '../log.ts';
import { ResizeDecoder } from './resize.ts';
import type { StreamIO, StreamingRuntime } from './runtime.ts';
import type { Outcome } from './status.ts';

export type RemoteCommand =
  | { kind: 'exec'; request: ExecRequest__Output }
  | { kind: 'attach'; request: AttachRequest__Output };

/** The client's side of a session, as a transport provides it. */
export interface SessionStreams {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  /** Raw bytes of the resize stream/channel. */
  resize?: Readable;
  /** Aborted when the client has gone away. */
  gone: AbortSignal;
  /** Reports the outcome to the client and closes the session. */
  finish(outcome: Outcome): Promise<void>;
}

function resizeFeed(source: Readable | undefined, tty: boolean): { sizes?: ResizeDecoder; stop(): void } {
  if (source === undefined || !tty) return { stop: () => {} };
  const sizes = new ResizeDecoder();
  source.pipe(sizes);
  return {
    sizes,
    stop: () => {
      source.unpipe(sizes);
      sizes.end();
    },
  };
}

async function run(
  command: RemoteCommand,
  runtime: StreamingRuntime,
  io: StreamIO,
  signal: AbortSignal,
): Promise<Outcome> {
  const { request } = command;
  if (command.kind === 'attach') {
    await runtime.attach(request.container_id, io, signal);
    return { kind: 'success' };
  }
  const { cmd } = command.request;
  const { exitCode } = await runtime.exec(request.container_id, cmd, io, signal);
  return exitCode === 0 ? { kind: 'success' } : { kind: 'exit', exitCode, command: cmd };
}

/** Ends an output stream and waits until everything written to it has gone out. */
async function endAndFlush(stream: Writable | undefined): Promise<void> {
  if (stream === undefined || stream.destroyed) return;
  if (!stream.writableEnded) stream.end();
  await finished(stream, { readable: false }).catch(() => {});
}

export async function runRemoteCommand(
  command: RemoteCommand,
  streams: SessionStreams,
  runtime: StreamingRuntime,
  logger: Logger,
): Promise<void> {
  const { tty } = command.request;
  const resize = resizeFeed(streams.resize, tty);
  const io: StreamIO = {
    stdin: streams.stdin,
    stdout: streams.stdout,
    stderr: streams.stderr,
    tty,
    resize: resize.sizes,
  };
  let outcome: Outcome;
  try {
    outcome = await run(command, runtime, io, streams.gone);
  } catch (err) {
    const what = command.kind === 'exec' ? 'error executing command in container' : 'error attaching to container';
    outcome = { kind: 'error', message: `${what}: ${err instanceof Error ? err.message : String(err)}` };
  } finally {
    resize.stop();
  }
  if (streams.gone.aborted) {
    logger.info({ kind: command.kind }, 'streaming client went away');
    return;
  }
  if (outcome.kind === 'error') logger.warn({ err: outcome.message }, `${command.kind} failed`);
  await Promise.all([endAndFlush(streams.stdout), endAndFlush(streams.stderr)]);
  await streams.finish(outcome);
}
