// Handler drop-ins: `runtimes.d/<handler>.toml`, one handler's runtime table per file (the same keys
// as `[...containerd.runtimes.<handler>]`, written at the top level), merged after the main file and
// its imports. An installer adds or removes a runtime by writing or deleting one file.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Diagnostic } from './model.ts';
import type { MergedConfig } from './imports.ts';
import { mergeFile } from './imports.ts';
import { readConfigFile } from './config-file.ts';
import { pathKey } from './toml-positions.ts';
import { isTable } from './schema.ts';
import { DEFAULT_RUNTIMES_DIR } from './defaults.ts';

const DROP_IN = /^([^.].*)\.toml$/;

/** `[crid] runtimes_dir` made absolute: relative to the main file's directory; "" = `runtimes.d` there. */
export function runtimesDirOf(mainPath: string, configured: string): string {
  return path.resolve(path.dirname(path.resolve(mainPath)), configured === '' ? DEFAULT_RUNTIMES_DIR : configured);
}

/** Drop-in files of `dir` in lexical order (hidden files, e.g. an installer's temp file, are skipped). */
export function listDropIns(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((name) => DROP_IN.test(name))
    .sort()
    .map((name) => path.join(dir, name));
}

/** Reads the drop-ins of the merged config's runtimes_dir into it; returns that directory. */
export function mergeRuntimeDropIns(merged: MergedConfig, mainPath: string, diagnostics: Diagnostic[]): string {
  const configured = isTable(merged.tree.crid) ? merged.tree.crid.runtimes_dir : undefined;
  const dir = runtimesDirOf(mainPath, typeof configured === 'string' ? configured : '');
  for (const file of listDropIns(dir)) {
    const handler = DROP_IN.exec(path.basename(file))![1]!;
    const existing = merged.tables.get(pathKey(['cri', 'containerd', 'runtimes', handler]));
    if (existing !== undefined) {
      diagnostics.push({
        severity: 'error',
        message: `drop-in ${file} defines handler "${handler}", which ${existing.file}:${existing.line}:${existing.column} already defines`,
        keyPath: '',
        position: { file, line: 1, column: 1 },
      });
      continue;
    }
    const config = readConfigFile(file, diagnostics, { handler });
    if (config === undefined) continue;
    mergeFile(merged, config);
    merged.dropInHandlers.add(handler);
  }
  return dir;
}
