// Loading crid's config: the main file and its drop-ins → the typed model plus every diagnostic.
import type { CridConfig, Diagnostic } from './model.ts';
import type { Origin } from './config-file.ts';
import { loadMerged } from './imports.ts';
import { mergeRuntimeDropIns } from './runtimes-dir.ts';
import { buildConfig } from './build.ts';
import { validateConfig } from './validate.ts';
import { baseSpecDiagnostics } from './base-spec-check.ts';
import { imageSettingsDiagnostics } from './image-settings-check.ts';
import { defaultRestrictOomScoreAdj } from './defaults.ts';
import { invalidArgument } from '../errors.ts';
import { formatDiagnostic } from './diagnostics.ts';

export interface LoadResult {
  /** undefined when the files could not be read or parsed at all. */
  config?: CridConfig;
  diagnostics: Diagnostic[];
  /** Files read, main file first. */
  files: string[];
  /** Model key path → where it was set; a key missing here has its default. */
  sources: Map<string, Origin>;
  /** The handler drop-in directory (absolute); "" when the files could not be read at all. */
  runtimesDir: string;
}

export interface LoadOptions {
  /** Overrides the CapEff-derived default of restrict_oom_score_adj (tests). */
  restrictOomScoreAdjDefault?: boolean;
}

/** Loads and validates; never throws for a bad config (look at the diagnostics). */
export function loadConfig(file: string, options: LoadOptions = {}): LoadResult {
  const diagnostics: Diagnostic[] = [];
  const merged = loadMerged(file, diagnostics);
  if (merged === undefined) return { diagnostics, files: [], sources: new Map(), runtimesDir: '' };
  const runtimesDir = mergeRuntimeDropIns(merged, file, diagnostics);
  const restrictOomScoreAdjDefault = options.restrictOomScoreAdjDefault ?? defaultRestrictOomScoreAdj();
  const built = buildConfig(merged, { restrictOomScoreAdjDefault }, diagnostics);
  diagnostics.push(...validateConfig(built, file));
  diagnostics.push(...baseSpecDiagnostics(built), ...imageSettingsDiagnostics(built));
  return { config: built.config, diagnostics, files: merged.files, sources: built.sources, runtimesDir };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/**
 * For `serve`: the config, or an InvalidArgument error listing every error diagnostic
 * (so crid stops before binding its socket). Warnings are returned for logging.
 */
export function loadConfigOrThrow(
  file: string,
  options: LoadOptions = {},
): { config: CridConfig; warnings: Diagnostic[] } {
  const result = loadConfig(file, options);
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (result.config === undefined || errors.length > 0) {
    throw invalidArgument(`invalid config ${file}:\n${errors.map(formatDiagnostic).join('\n')}`);
  }
  return { config: result.config, warnings: result.diagnostics.filter((d) => d.severity === 'warning') };
}
