import type { Diagnostic } from './model.ts';

/** `file:line:col: error: message [key.path]` */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.position ? `${d.position.file}:${d.position.line}:${d.position.column}: ` : '';
  const key = d.keyPath === '' ? '' : ` [${d.keyPath}]`;
  return `${where}${d.severity}: ${d.message}${key}`;
}
