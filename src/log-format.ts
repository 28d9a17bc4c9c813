// pino's JSON lines as text for a person reading a terminal or `journalctl`:
// `2026-01-02T03:04:05.678Z INFO message key=value …`.

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** A pino destination that rewrites each JSON line as text before writing it to `out`. */
export function textStream(out: { write(text: string): unknown }): { write(line: string): void } {
  return { write: (line) => void out.write(formatText(line)) };
}

export function formatText(line: string): string {
  const { level, time, msg, pid: _pid, ...fields } = JSON.parse(line) as Record<string, unknown>;
  const when = new Date(typeof time === 'number' ? time : Date.now()).toISOString();
  const word = LEVELS[level as number] ?? String(level);
  const pairs = Object.entries(fields).map(([key, value]) => `${key}=${formatValue(key, value)}`);
  return `${[when, word, String(msg ?? ''), ...pairs].join(' ')}\n`;
}

function formatValue(key: string, value: unknown): string {
  // pino serializes errors as { type, message, stack }: the message is what a reader needs on the line.
  if (key === 'err' && typeof value === 'object' && value !== null && 'message' in value)
    return quote(String(value.message));
  if (typeof value === 'string') return quote(value);
  return JSON.stringify(value);
}

/** Bare when it cannot be misread, else a JSON string. */
function quote(text: string): string {
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}
