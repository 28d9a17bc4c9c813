// Port-forward over SPDY: for every forwarded connection the client opens a `data` and an
// `error` stream with the same `requestID` and `port` headers; the pair runs once both are in.
import type { Duplex } from 'node:stream';
import type { SpdyConnection, SpdyStream } from 'spdy-transport';
import type { Logger } from '../log.ts';
import { forwardPort, parsePort } from './port-forward.ts';
import type { StreamingRuntime } from './runtime.ts';
import { acceptStream, streamHeader } from './spdy-connection.ts';

interface StreamPair {
  data?: SpdyStream;
  error?: SpdyStream;
  timer: NodeJS.Timeout;
}

export interface SpdyPortForwardOptions {
  streamCreationTimeoutMs: number;
  /** Aborted when the connection is gone (client closed it or the server stops). */
  gone: AbortSignal;
  logger: Logger;
}

/** Older clients send no requestID: pair streams by id (error N, data N+2), as kubelet does. */
function requestId(stream: SpdyStream, type: string): string {
  return streamHeader(stream, 'requestID') ?? String(type === 'error' ? stream.id : stream.id - 2);
}

function validate(stream: SpdyStream): string | undefined {
  if (parsePort(streamHeader(stream, 'port')) === undefined)
    return `invalid or missing port header ${JSON.stringify(streamHeader(stream, 'port'))}`;
  const type = streamHeader(stream, 'streamType');
  if (type !== 'data' && type !== 'error') return `invalid stream type ${JSON.stringify(type)}`;
  return undefined;
}

async function runPair(
  pair: Required<Omit<StreamPair, 'timer'>>,
  podSandboxId: string,
  runtime: StreamingRuntime,
  options: SpdyPortForwardOptions,
): Promise<void> {
  const port = parsePort(streamHeader(pair.data, 'port'))!;
  const forward = new AbortController();
  const abort = () => forward.abort();
  options.gone.addEventListener('abort', abort, { once: true });
  pair.data.once('close', abort);
  const end = await forwardPort(runtime, podSandboxId, port, pair.data as Duplex, forward.signal, options.logger);
  options.gone.removeEventListener('abort', abort);
  if (end.kind === 'reset') {
    pair.data.abort();
    pair.error.abort();
    return;
  }
  if (end.kind === 'error') pair.error.write(end.message);
  if (!pair.data.writableEnded) pair.data.end();
  pair.error.end();
}

export function servePortForwardOverSpdy(
  connection: SpdyConnection,
  podSandboxId: string,
  runtime: StreamingRuntime,
  options: SpdyPortForwardOptions,
): void {
  const pairs = new Map<string, StreamPair>();
  const { logger } = options;
  connection.on('stream', (stream: SpdyStream) => {
    const invalid = validate(stream);
    if (invalid !== undefined) {
      logger.warn({ reason: invalid }, 'rejected port-forward stream');
      stream.on('error', () => {});
      stream.abort();
      return;
    }
    acceptStream(stream, logger);
    const type = streamHeader(stream, 'streamType') as 'data' | 'error';
    const id = requestId(stream, type);
    let pair = pairs.get(id);
    if (pair === undefined) {
      const timer = setTimeout(() => {
        pairs.delete(id);
        pair?.error?.end(`timed out waiting for streams of request ${id}`);
        pair?.data?.abort();
      }, options.streamCreationTimeoutMs);
      pair = { timer };
      pairs.set(id, pair);
    }
    if (pair[type] !== undefined) {
      logger.warn({ requestId: id, streamType: type }, 'duplicate port-forward stream');
      stream.abort();
      return;
    }
    pair[type] = stream;
    const { data, error } = pair;
    if (data === undefined || error === undefined) return;
    clearTimeout(pair.timer);
    pairs.delete(id);
    runPair({ data, error }, podSandboxId, runtime, options).catch((err: unknown) => {
      logger.warn({ err, requestId: id }, 'port-forward stream pair failed');
      data.abort();
      error.abort();
    });
  });
  options.gone.addEventListener(
    'abort',
    () => {
      for (const pair of pairs.values()) clearTimeout(pair.timer);
      pairs.clear();
    },
    { once: true },
  );
}
