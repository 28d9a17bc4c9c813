import { pino, type Logger } from 'pino';
import { textStream } from './log-format.ts';

export type { Logger };

/** `[crid] log_format`: "" picks text on a terminal (a person reads it), JSON otherwise (a collector). */
export type LogFormat = 'text' | 'json';

export function logFormat(configured: string, stderr: { isTTY?: boolean }): LogFormat {
  if (configured === 'text' || configured === 'json') return configured;
  return stderr.isTTY ? 'text' : 'json';
}

/** Structured logs on stderr; children carry podId / containerId / rpc fields. */
export function createLogger(level: string = process.env.CRID_LOG_LEVEL ?? 'info', format: LogFormat = 'json'): Logger {
  const destination = pino.destination({ fd: 2, sync: false });
  return pino({ level, base: { pid: process.pid } }, format === 'text' ? textStream(destination) : destination);
}

/** A logger that writes nothing, for unit tests and one-shot CLI commands. */
export const silentLogger: Logger = pino({ level: 'silent' });
