// One config file: parsed, every key placed in the canonical tree with the position it was written at.
import { readFileSync } from 'node:fs';
import TOML from '@iarna/toml';
import type { Diagnostic, Position } from './model.ts';
import { displayPath, pathKey, scanKeyLocations, type KeyLocation } from './toml-positions.ts';
import { notImplementedWarning } from './not-implemented.ts';
import {
  CRI_PLUGIN_V2,
  deprecation,
  describeValue,
  hasKind,
  isTable,
  kindName,
  placeKey,
  VERSION_1_DEPRECATED,
} from './schema.ts';

/** Where an effective key was written: file, line, column and the key path as written there. */
export interface Origin extends Position {
  keyPath: string;
}

export interface ConfigEntry {
  canonical: string[];
  value: unknown;
  origin: Origin;
}

export interface ConfigFile {
  path: string;
  version: number;
  imports: string[];
  /** Origin of the `imports` key, for errors about a missing import. */
  importsOrigin: Origin;
  /** Origin of the `version` key, when written. */
  versionOrigin?: Origin;
  /** Leaves (and empty tables) in document order, already type-checked. */
  entries: ConfigEntry[];
  /** Every table crid reads, by canonical path key → where its header (or first key) is. */
  tables: Map<string, Origin>;
  /** containerd settings crid does not read (`root`, `[grpc]`, `[plugins."<other plugin>"]`), in order. */
  foreign: Origin[];
}

const SUPPORTED_VERSIONS = [1, 2, 3, 4];

/** A `runtimes.d/<handler>.toml` file: its top-level keys are that handler's runtime table. */
export interface HandlerDropIn {
  handler: string;
}

/** Reads and places one file; problems go to `diagnostics`. undefined when the file cannot be used. */
export function readConfigFile(
  path: string,
  diagnostics: Diagnostic[],
  dropIn?: HandlerDropIn,
): ConfigFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    const message = missing
      ? `no config file here: write the default one with \`crid config default > ${path}\` (scripts/install does)`
      : `cannot read config file: ${(err as Error).message}`;
    diagnostics.push({ severity: 'error', message, keyPath: '', position: { file: path, line: 1, column: 1 } });
    return undefined;
  }
  let data: Record<string, unknown>;
  try {
    data = TOML.parse(text) as Record<string, unknown>;
  } catch (err) {
    diagnostics.push(syntaxDiagnostic(path, err));
    return undefined;
  }
  const placer = new FilePlacer(path, text, data, diagnostics);
  return dropIn === undefined ? placer.place() : placer.placeHandler(dropIn.handler);
}

function syntaxDiagnostic(file: string, err: unknown): Diagnostic {
  const e = err as { message?: string; line?: number; col?: number };
  const message = (e.message ?? String(err)).split('\n')[0]!.replace(/ at row \d+, col \d+, pos \d+:$/, '');
  return {
    severity: 'error',
    message: `malformed TOML: ${message}`,
    keyPath: '',
    position: { file, line: (e.line ?? 0) + 1, column: (e.col ?? 0) + 1 },
  };
}

class FilePlacer {
  private readonly path: string;
  private readonly data: Record<string, unknown>;
  private readonly diagnostics: Diagnostic[];
  private readonly locations: Map<string, KeyLocation>;
  private readonly entries: ConfigEntry[] = [];
  private readonly tables = new Map<string, Origin>();
  private readonly foreign: Origin[] = [];
  private readonly warned = new Set<string>();
  private version = 1;
  /** Written keys of a handler drop-in are placed as if under this path of a version-2 file. */
  private prefix: string[] = [];

  constructor(path: string, text: string, data: Record<string, unknown>, diagnostics: Diagnostic[]) {
    this.path = path;
    this.data = data;
    this.diagnostics = diagnostics;
    this.locations = scanKeyLocations(text);
  }

  place(): ConfigFile | undefined {
    if (!this.readVersion()) return undefined;
    const imports = this.readImports();
    for (const [key, value] of Object.entries(this.data)) {
      if (key !== 'version' && key !== 'imports') this.visit([key], value);
    }
    return {
      path: this.path,
      version: this.version,
      imports,
      importsOrigin: this.origin(['imports']),
      versionOrigin: this.data.version === undefined ? undefined : this.origin(['version']),
      entries: this.entries,
      tables: this.tables,
      foreign: this.foreign,
    };
  }

  placeHandler(handler: string): ConfigFile {
    this.version = 2;
    this.prefix = ['plugins', CRI_PLUGIN_V2, 'containerd', 'runtimes', handler];
    const canonical = ['cri', 'containerd', 'runtimes', handler];
    const top: Origin = { file: this.path, line: 1, column: 1, keyPath: '' };
    this.tables.set(pathKey(canonical), top);
    this.entries.push({ canonical, value: {}, origin: top });
    for (const [key, value] of Object.entries(this.data)) this.visit([key], value);
    return {
      path: this.path,
      version: 2,
      imports: [],
      importsOrigin: top,
      entries: this.entries,
      tables: this.tables,
      foreign: [],
    };
  }

  private readVersion(): boolean {
    const raw = this.data.version;
    if (raw === undefined) {
      this.warn(['version'], VERSION_1_DEPRECATED);
      return true;
    }
    const version = typeof raw === 'bigint' ? Number(raw) : raw;
    if (typeof version !== 'number' || !Number.isInteger(version)) {
      this.error(['version'], `wrong type: expected an integer, got ${describeValue(raw)}`);
      return false;
    }
    if (version !== 0 && !SUPPORTED_VERSIONS.includes(version)) {
      this.error(['version'], `unsupported config version ${version} (supported: ${SUPPORTED_VERSIONS.join(', ')})`);
      return false;
    }
    this.version = Math.max(version, 1);
    if (this.version === 1) this.warn(['version'], VERSION_1_DEPRECATED);
    return true;
  }

  private readImports(): string[] {
    const raw = this.data.imports;
    if (raw === undefined) return [];
    if (!hasKind(raw, 'strings')) {
      this.error(['imports'], `wrong type: expected an array of strings, got ${describeValue(raw)}`);
      return [];
    }
    return raw as string[];
  }

  private visit(written: string[], value: unknown): void {
    const placement = placeKey([...this.prefix, ...written], this.version);
    if (placement.use === 'ignore') {
      if (written.length === 1 || (written.length === 2 && written[0] === 'plugins'))
        this.foreign.push(this.origin(written));
      return;
    }
    if (placement.use === 'descend') {
      if (isTable(value)) for (const [key, child] of Object.entries(value)) this.visit([...written, key], child);
      return;
    }
    if (placement.use === 'unknown') {
      this.reportOnce(
        placement.severity,
        written.slice(0, placement.depth + 1 - this.prefix.length),
        placement.message,
      );
      return;
    }
    if (!hasKind(value, placement.kind)) {
      this.error(written, `wrong type: expected ${kindName(placement.kind)}, got ${describeValue(value)}`);
      return;
    }
    const deprecated = deprecation(placement.canonical, value, this.version);
    if (deprecated !== undefined) this.warn(written, deprecated);
    const ignored = notImplementedWarning(placement.canonical, value);
    if (ignored !== undefined) this.warn(written, ignored);
    if (!isTable(value) || placement.kind === 'any') {
      this.entries.push({ canonical: placement.canonical, value, origin: this.origin(written) });
      return;
    }
    this.tables.set(pathKey(placement.canonical), this.origin(written));
    const children = Object.entries(value);
    if (children.length === 0)
      this.entries.push({ canonical: placement.canonical, value: {}, origin: this.origin(written) });
    for (const [key, child] of children) this.visit([...written, key], child);
  }

  private reportOnce(severity: Diagnostic['severity'], written: string[], message: string): void {
    const key = pathKey(written);
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.diagnostics.push({ severity, message, keyPath: displayPath(written), position: this.origin(written) });
  }

  private warn(written: string[], message: string): void {
    this.diagnostics.push({
      severity: 'warning',
      message,
      keyPath: displayPath(written),
      position: this.origin(written),
    });
  }

  private error(written: string[], message: string): void {
    this.diagnostics.push({
      severity: 'error',
      message,
      keyPath: displayPath(written),
      position: this.origin(written),
    });
  }

  /** Where `written` is in the text; an implicit table falls back to its nearest written ancestor. */
  private origin(written: string[]): Origin {
    for (let n = written.length; n > 0; n--) {
      const at = this.locations.get(pathKey(written.slice(0, n)));
      if (at) return { file: this.path, ...at, keyPath: displayPath(written) };
    }
    return { file: this.path, line: 1, column: 1, keyPath: displayPath(written) };
  }
}
