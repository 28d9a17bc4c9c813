// The effective config (the model after merging and defaults) as TOML or JSON, each key with its source.
import type { CridConfig } from './model.ts';
import type { Origin } from './config-file.ts';
import { displayPath } from './toml-positions.ts';
import { isTable } from './schema.ts';
import { tomlValue } from './default-config.ts';

export interface DumpInput {
  config: CridConfig;
  files: string[];
  sources: Map<string, Origin>;
}

const where = (o: Origin): string => `${o.file}:${o.line}:${o.column}`;

export function dumpJson(input: DumpInput): string {
  const sources = Object.fromEntries([...input.sources].map(([key, origin]) => [key, where(origin)]));
  return `${JSON.stringify({ files: input.files, config: input.config, sources }, null, 2)}\n`;
}

/** crid's model as TOML (not a containerd layout); `# file:line:col` or `# default` after each key. */
export function dumpToml(input: DumpInput): string {
  const lines = [
    '# Effective crid config (crid model, not a containerd layout), merged from:',
    ...input.files.map((f) => `#   ${f}`),
  ];
  renderTable(input, [], input.config as unknown as Record<string, unknown>, lines);
  return `${lines.join('\n')}\n`;
}

function renderTable(input: DumpInput, path: string[], table: Record<string, unknown>, lines: string[]): void {
  const scalars = Object.entries(table).filter(([, v]) => !isSubTable(path, v));
  const tables = Object.entries(table).filter(([, v]) => isSubTable(path, v));
  if (path.length > 0 && (scalars.length > 0 || tables.length === 0)) lines.push('', `[${displayPath(path)}]`);
  for (const [key, value] of scalars) {
    const origin = input.sources.get([...path, key].join('.'));
    lines.push(`${displayPath([key])} = ${tomlValue(value)}  # ${origin ? where(origin) : 'default'}`);
  }
  for (const [key, value] of tables) renderTable(input, [...path, key], value as Record<string, unknown>, lines);
}

/** Tables of the model get their own header; tables inside a handler's `options` stay inline. */
function isSubTable(path: string[], value: unknown): boolean {
  const inOptions = path.length === 3 && path[0] === 'runtimes' && path[2] === 'options';
  return isTable(value) && !inOptions;
}
