// The main config file plus its `imports` drop-ins, merged into one canonical tree.
//
// Rules implemented (containerd 2.x `cmd/containerd/server/config` LoadConfig/resolveImports/mergeConfig):
// - files are loaded breadth-first: the main file, then its imports in order, then theirs; a file
//   already loaded is skipped (circular imports are harmless);
// - an import path is cleaned and, when relative, joined to the importing file's directory; a path
//   containing `*` is a glob whose matches load in lexical order (no match is not an error); a plain
//   path that does not exist is an error;
// - a drop-in may not have a higher `version` than the main file; a lower one is read in its own
//   layout (containerd migrates it in memory), so a version-2 drop-in can extend a version-3 file;
// - plugin tables (and crid's `[crid]`) merge key by key, recursively: a later file overrides
//   the keys it sets, including zero values, and keeps the rest; an array is replaced, not appended.
//   (containerd 1.x instead replaced a whole `plugins."<id>"` section with the later file's; 2.x merges.)
import { existsSync, globSync } from 'node:fs';
import path from 'node:path';
import type { Diagnostic } from './model.ts';
import { readConfigFile, type ConfigFile, type Origin } from './config-file.ts';
import { criPluginIds, expectedTablesText, isTable, nearest } from './schema.ts';
import { displayPath, pathKey } from './toml-positions.ts';

export interface MergedConfig {
  /** Schema version of the main file. */
  version: number;
  /** Files loaded, main file first. */
  files: string[];
  /** Canonical tree (see schema.ts): `cri.*` in version-2 CRI layout, `crid.*`. */
  tree: Record<string, unknown>;
  /** Canonical leaf path key → the file position that set it. */
  origins: Map<string, Origin>;
  /** Canonical table path key → the last file position that declared it. */
  tables: Map<string, Origin>;
  /** The main file's `version` key, when written. */
  versionOrigin?: Origin;
  /** Handlers that come from runtimes_dir drop-ins, not from the main file or its imports. */
  dropInHandlers: Set<string>;
  /** containerd settings crid does not read, from every file. */
  foreign: Origin[];
}

export function loadMerged(mainPath: string, diagnostics: Diagnostic[]): MergedConfig | undefined {
  const merged: MergedConfig = {
    version: 1,
    files: [],
    tree: {},
    origins: new Map(),
    tables: new Map(),
    dropInHandlers: new Set(),
    foreign: [],
  };
  const loaded = new Set<string>();
  const pending = [mainPath];
  let failed = false;
  while (pending.length > 0) {
    const file = pending.shift()!;
    if (loaded.has(path.resolve(file))) continue;
    loaded.add(path.resolve(file));
    const config = readConfigFile(file, diagnostics);
    if (config === undefined) {
      failed = true;
      continue;
    }
    if (merged.files.length === 0) {
      merged.version = config.version;
      merged.versionOrigin = config.versionOrigin;
    } else if (!checkDropInVersion(config, merged.version, diagnostics)) {
      failed = true;
      continue;
    }
    mergeFile(merged, config);
    pending.push(...resolveImports(config, diagnostics));
  }
  if (failed) return undefined;
  checkCriTablePresent(merged, diagnostics);
  return merged;
}

/**
 * A containerd config whose CRI plugin table is missing (misspelled, or another layout's) would
 * make crid run on its built-in defaults and drop the admin's handlers without a word.
 */
function checkCriTablePresent(merged: MergedConfig, diagnostics: Diagnostic[]): void {
  const first = merged.foreign[0];
  if (first === undefined || merged.tree.cri !== undefined || reportedPluginError(diagnostics)) return;
  const expected = criPluginIds(merged.version);
  const looksCri = (id: string) => /cri/i.test(id) || nearest(id, expected).distance <= expected[0]!.length / 3;
  const guess = merged.foreign.find((o) => o.keyPath.startsWith('plugins.') && looksCri(pluginId(o.keyPath)));
  const hint =
    guess &&
    ` (did you mean [${displayPath(['plugins', nearest(pluginId(guess.keyPath), expected).candidate])}] instead of [${guess.keyPath}]?)`;
  const { keyPath, ...position } = guess ?? first;
  diagnostics.push({
    severity: 'error',
    message: `no CRI plugin table${hint ?? ''}: ${expectedTablesText(merged.version)}; without it crid would run on built-in defaults`,
    keyPath,
    position,
  });
}

/** A misspelled or misplaced CRI plugin table was already reported where it is written. */
function reportedPluginError(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error' && d.keyPath.startsWith('plugins.'));
}

/** `plugins."io.containerd.x"` (display form) → `io.containerd.x`. */
function pluginId(keyPath: string): string {
  return keyPath.slice('plugins.'.length).replace(/^"(.*)"$/, '$1');
}

function checkDropInVersion(config: ConfigFile, rootVersion: number, diagnostics: Diagnostic[]): boolean {
  if (config.version <= rootVersion) return true;
  diagnostics.push({
    severity: 'error',
    message: `drop-in config version ${config.version} higher than root config version ${rootVersion}`,
    keyPath: 'version',
    position: { file: config.path, line: 1, column: 1 },
  });
  return false;
}

/** Import paths of one file, in containerd's order; a missing plain path is an error. */
function resolveImports(config: ConfigFile, diagnostics: Diagnostic[]): string[] {
  const out: string[] = [];
  for (const entry of config.imports) {
    const cleaned = path.normalize(entry);
    const resolved = path.isAbsolute(cleaned) ? cleaned : path.join(path.dirname(config.path), cleaned);
    if (resolved.includes('*')) {
      out.push(...globSync(resolved).sort());
      continue;
    }
    if (!existsSync(resolved)) {
      const { keyPath, ...position } = config.importsOrigin;
      diagnostics.push({
        severity: 'error',
        message: `imported config file ${resolved} does not exist`,
        keyPath,
        position,
      });
      continue;
    }
    out.push(resolved);
  }
  return out;
}

export function mergeFile(merged: MergedConfig, config: ConfigFile): void {
  merged.files.push(config.path);
  merged.foreign.push(...config.foreign);
  for (const [key, origin] of config.tables) merged.tables.set(key, origin);
  for (const entry of config.entries) {
    setPath(merged.tree, entry.canonical, entry.value);
    merged.origins.set(pathKey(entry.canonical), entry.origin);
  }
}

function setPath(tree: Record<string, unknown>, segments: string[], value: unknown): void {
  let node = tree;
  for (const segment of segments.slice(0, -1)) {
    const next = node[segment];
    if (!isTable(next)) node[segment] = {};
    node = node[segment] as Record<string, unknown>;
  }
  const last = segments.at(-1)!;
  const isEmptyTable = isTable(value) && Object.keys(value).length === 0;
  if (isEmptyTable && isTable(node[last])) return;
  node[last] = value;
}
