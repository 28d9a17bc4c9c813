import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stderr; children carry podId / containerId / rpc fields. */
export function createLogger(level: string = process.env.CRID_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: false }));
}

/** A logger that writes nothing, for unit tests and one-shot CLI commands. */
export const silentLogger: Logger = pino({ level: 'silent' });
