// What a reload changes: handlers added, removed and changed (each key old → new), settings that
// apply to new pods, and settings that only a restart can apply.
import type { CridConfig, RuntimeHandler } from './model.ts';
import { isTable } from './schema.ts';

export interface KeyChange {
  /** Model key path: `options.BinaryName` within a handler, `crid.socket` for settings. */
  key: string;
  from: unknown;
  to: unknown;
}

export interface ConfigDiff {
  added: string[];
  removed: string[];
  changed: { handler: string; changes: KeyChange[] }[];
  /** Applied live (to new pods). */
  settings: KeyChange[];
  /** Not applied: the running daemon keeps the old value until it restarts. */
  restartNeeded: KeyChange[];
}

/** Bound sockets, open stores, the shims' namespace and the servers crid started with. */
export const RESTART_ONLY_KEYS = [
  'crid.socket',
  'crid.root',
  'crid.state',
  'crid.shim_namespace',
  'crid.metrics_address',
  'crid.log_format',
  'stream_server_address',
  'stream_server_port',
  'enable_tls_streaming',
  'stream_tls_cert_file',
  'stream_tls_key_file',
  'snapshotter',
] as const;

export function diffConfigs(old: CridConfig, next: CridConfig): ConfigDiff {
  const oldNames = Object.keys(old.runtimes);
  const nextNames = Object.keys(next.runtimes);
  const changed = nextNames
    .filter((name) => oldNames.includes(name))
    .map((name) => ({
      handler: name,
      changes: changes(flatten(handlerFields(old.runtimes[name]!)), flatten(handlerFields(next.runtimes[name]!))),
    }))
    .filter((c) => c.changes.length > 0);
  const settingChanges = changes(flatten(settingsOf(old)), flatten(settingsOf(next)));
  const restart = new Set<string>(RESTART_ONLY_KEYS);
  return {
    added: nextNames.filter((n) => !oldNames.includes(n)).sort(),
    removed: oldNames.filter((n) => !nextNames.includes(n)).sort(),
    changed: changed.sort((a, b) => a.handler.localeCompare(b.handler)),
    settings: settingChanges.filter((c) => !restart.has(c.key)),
    restartNeeded: settingChanges.filter((c) => restart.has(c.key)),
  };
}

export function isEmptyDiff(d: ConfigDiff): boolean {
  return d.added.length + d.removed.length + d.changed.length + d.settings.length + d.restartNeeded.length === 0;
}

/** One line per change, for the daemon's log and `crid config reload`. */
export function formatDiff(d: ConfigDiff): string {
  if (isEmptyDiff(d)) return 'no changes\n';
  const show = (c: KeyChange) =>
    `${c.key}: ${JSON.stringify(c.from) ?? '(unset)'} → ${JSON.stringify(c.to) ?? '(unset)'}`;
  const lines = [
    ...d.added.map((h) => `handler added: ${h}`),
    ...d.removed.map((h) => `handler removed: ${h}`),
    ...d.changed.flatMap((c) => [`handler changed: ${c.handler}`, ...c.changes.map((k) => `  ${show(k)}`)]),
    ...d.settings.map((c) => `setting changed: ${show(c)}`),
    ...d.restartNeeded.map((c) => `needs a restart (running value kept): ${show(c)}`),
  ];
  return `${lines.join('\n')}\n`;
}

function handlerFields(h: RuntimeHandler): Record<string, unknown> {
  const { name: _name, ...fields } = h;
  return fields;
}

function settingsOf(config: CridConfig): Record<string, unknown> {
  const { runtimes: _runtimes, ...settings } = config;
  return settings;
}

/** Nested tables → dotted keys; arrays and scalars are leaves, an empty table is nothing. */
function flatten(table: Record<string, unknown>, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(table)) {
    const path = `${prefix}${key}`;
    if (isTable(value)) for (const [k, v] of flatten(value, `${path}.`)) out.set(k, v);
    else out.set(path, value);
  }
  return out;
}

function changes(from: Map<string, unknown>, to: Map<string, unknown>): KeyChange[] {
  const keys = [...new Set([...from.keys(), ...to.keys()])];
  return keys
    .filter((key) => JSON.stringify(from.get(key)) !== JSON.stringify(to.get(key)))
    .map((key) => ({ key, from: from.get(key), to: to.get(key) }));
}
