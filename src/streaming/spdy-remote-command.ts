// remotecommand (exec/attach) over SPDY: the client opens one stream per stdio channel, tagged
// with a `streamType` header, plus `error` (the outcome) and, with a tty from v3 on, `resize`.
import type { Duplex } from 'node:stream';
import type { SpdyConnection, SpdyStream } from 'spdy-transport';
import type { Logger } from '../log.ts';
import { remoteCommandVersion } from './protocols.ts';
import { runRemoteCommand, type RemoteCommand, type SessionStreams } from './remote-command.ts';
import type { StreamingRuntime } from './runtime.ts';
import { acceptStream, closeWhenClientDone, streamHeader } from './spdy-connection.ts';
import { statusJson, statusText, type Outcome } from './status.ts';

const STREAM_TYPES = new Set(['error', 'stdin', 'stdout', 'stderr', 'resize']);

export interface SpdySessionOptions {
  streamCreationTimeoutMs: number;
  closeGraceMs: number;
  /** Aborted when the session must end (client gone or server stopping). */
  gone: AbortSignal;
  logger: Logger;
}

function expectedStreams(command: RemoteCommand, resize: boolean): number {
  const { stdin, stdout, stderr, tty } = command.request;
  return 1 + [stdin, stdout, stderr, tty && resize].filter(Boolean).length;
}

/** Collects the client's streams by type; undefined if they did not all come in time. */
function waitForStreams(
  connection: SpdyConnection,
  expected: number,
  options: SpdySessionOptions,
): Promise<Map<string, SpdyStream> | undefined> {
  return new Promise((resolve) => {
    const streams = new Map<string, SpdyStream>();
    const done = (result: Map<string, SpdyStream> | undefined) => {
      clearTimeout(timer);
      connection.off('stream', onStream);
      options.gone.removeEventListener('abort', onGone);
      resolve(result);
    };
    const onStream = (stream: SpdyStream) => {
      acceptStream(stream, options.logger);
      const type = streamHeader(stream, 'streamType') ?? '';
      if (!STREAM_TYPES.has(type)) {
        options.logger.warn({ streamType: type }, 'unexpected remotecommand stream type');
        return;
      }
      streams.set(type, stream);
      if (streams.size === expected) done(streams);
    };
    const onGone = () => done(undefined);
    const timer = setTimeout(() => {
      options.logger.warn(
        { received: [...streams.keys()], expected },
        'timed out waiting for client to create streams',
      );
      done(undefined);
    }, options.streamCreationTimeoutMs);
    connection.on('stream', onStream);
    options.gone.addEventListener('abort', onGone, { once: true });
  });
}

function writeOutcome(errorStream: SpdyStream | undefined, outcome: Outcome, json: boolean): void {
  if (errorStream === undefined) return;
  const payload = json ? statusJson(outcome) : statusText(outcome);
  if (payload !== undefined) errorStream.write(payload);
  errorStream.end();
}

export async function serveRemoteCommandOverSpdy(
  connection: SpdyConnection,
  socket: Duplex,
  protocol: string,
  command: RemoteCommand,
  runtime: StreamingRuntime,
  options: SpdySessionOptions,
): Promise<void> {
  const version = remoteCommandVersion(protocol);
  const streams = await waitForStreams(connection, expectedStreams(command, version.resize), options);
  if (streams === undefined) {
    socket.destroy();
    return;
  }
  const { stdin, stdout, stderr } = command.request;
  const session: SessionStreams = {
    stdin: stdin ? streams.get('stdin') : undefined,
    stdout: stdout ? streams.get('stdout') : undefined,
    stderr: stderr ? streams.get('stderr') : undefined,
    resize: streams.get('resize'),
    gone: options.gone,
    finish: async (outcome) => {
      writeOutcome(streams.get('error'), outcome, version.statusJson);
      for (const stream of streams.values()) if (!stream.writableEnded) stream.end();
      closeWhenClientDone(connection, socket, options.closeGraceMs);
    },
  };
  await runRemoteCommand(command, session, runtime, options.logger);
}
