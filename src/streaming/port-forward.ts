// One forwarded connection, whatever the transport: runs it through the runtime and says how
// the client should be told it ended.
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.ts';
import type { StreamingRuntime } from './runtime.ts';

export type ForwardEnd = { kind: 'done' } | { kind: 'reset' } | { kind: 'error'; message: string };

/** The connection was reset by the pod or its peer stopped reading: reset the client's streams. */
function isReset(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

export async function forwardPort(
  runtime: StreamingRuntime,
  podSandboxId: string,
  port: number,
  stream: Duplex,
  signal: AbortSignal,
  logger: Logger,
): Promise<ForwardEnd> {
  try {
    await runtime.portForward(podSandboxId, port, stream, signal);
    return { kind: 'done' };
  } catch (err) {
    logger.warn({ err, port }, 'port forward failed');
    if (isReset(err)) return { kind: 'reset' };
    const reason = err instanceof Error ? err.message : String(err);
    return { kind: 'error', message: `error forwarding port ${port} to pod ${podSandboxId}, uid : ${reason}` };
  }
}

/** Parses a port header or query value: a decimal in 1..65535. */
export function parsePort(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,5}$/.test(value)) return undefined;
  const port = Number(value);
  return port >= 1 && port <= 65535 ? port : undefined;
}
