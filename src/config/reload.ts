// The config in force, and the one reload path (SIGHUP, `crid config reload`, a drop-in written or
// deleted): load → on errors keep the old config → else swap, re-check handlers, log the diff.
import type { CridConfig, Diagnostic } from './model.ts';
import type { Logger } from '../log.ts';
import { hasErrors, loadConfig, type LoadOptions } from './load.ts';
import { formatDiagnostic } from './diagnostics.ts';
import { diffConfigs, formatDiff, RESTART_ONLY_KEYS, type ConfigDiff } from './config-diff.ts';
import { runtimesDirOf } from './runtimes-dir.ts';
import { RuntimesDirWatcher } from './runtimes-watch.ts';

export type ReloadResult = { ok: true; diff: ConfigDiff; warnings: Diagnostic[] } | { ok: false; errors: Diagnostic[] };

export interface ConfigHolderOptions {
  /** The main config file. */
  path: string;
  /** The config crid started with (already adjusted). */
  config: CridConfig;
  log: Logger;
  /** Re-checks the handlers after each applied reload. */
  recheck?: (config: CridConfig) => Promise<unknown>;
  /** Told of every reload, applied (true) or rejected (false). */
  onReloaded?: (ok: boolean) => void;
  loadOptions?: LoadOptions;
  /** Command-line overrides (`--socket`) applied to every loaded config before it is compared. */
  adjust?: (config: CridConfig) => void;
  /** Called after a reload was applied and the handlers re-checked. */
  onApplied?: (config: CridConfig, diff: ConfigDiff) => void;
}

export class ConfigHolder {
  private readonly opts: ConfigHolderOptions;
  private config: CridConfig;
  private queue: Promise<unknown> = Promise.resolve();
  private watcher: RuntimesDirWatcher | undefined;
  private watchedDir = '';

  constructor(opts: ConfigHolderOptions) {
    this.opts = opts;
    this.config = opts.config;
  }

  current(): CridConfig {
    return this.config;
  }

  /** Re-reads the config; reloads never overlap (a second one waits for the first). */
  reload(): Promise<ReloadResult> {
    const next = this.queue.then(() => this.reloadNow());
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Reloads whenever a file in the handler drop-in directory changes (until close()). */
  watchRuntimesDir(debounceMs = 250): void {
    const dir = runtimesDirOf(this.opts.path, this.config.crid.runtimes_dir);
    if (this.watcher !== undefined && dir === this.watchedDir) return;
    this.watcher?.close();
    this.watchedDir = dir;
    const reload = () =>
      this.reload().catch((err: unknown) =>
        this.opts.log.error({ err, dir }, 'config reload after a drop-in change failed'),
      );
    this.watcher = new RuntimesDirWatcher(dir, () => void reload(), debounceMs);
    this.opts.log.info({ dir }, 'watching handler drop-ins');
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  private async reloadNow(): Promise<ReloadResult> {
    const { log } = this.opts;
    const loaded = loadConfig(this.opts.path, this.opts.loadOptions);
    if (loaded.config === undefined || hasErrors(loaded.diagnostics)) {
      const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
      for (const d of errors) log.error({ keyPath: d.keyPath }, formatDiagnostic(d));
      log.error(
        { file: this.opts.path, errors: errors.length },
        'config reload rejected; the old config stays in force',
      );
      this.opts.onReloaded?.(false);
      return { ok: false, errors };
    }
    const next = loaded.config;
    this.opts.adjust?.(next);
    const diff = diffConfigs(this.config, next);
    keepRunningValues(this.config, next);
    this.config = next;
    this.opts.onReloaded?.(true);
    const warnings = loaded.diagnostics.filter((d) => d.severity === 'warning');
    log.info(
      {
        added: diff.added,
        removed: diff.removed,
        changed: diff.changed.map((c) => c.handler),
        restartNeeded: diff.restartNeeded.map((c) => c.key),
      },
      `config reloaded:\n${formatDiff(diff)}`,
    );
    await this.opts.recheck?.(next);
    if (this.watcher !== undefined) this.watchRuntimesDir();
    this.opts.onApplied?.(next, diff);
    return { ok: true, diff, warnings };
  }
}

/** Settings only a restart applies keep the values the daemon runs with. */
function keepRunningValues(running: CridConfig, next: CridConfig): void {
  for (const key of RESTART_ONLY_KEYS) {
    const [head, tail] = key.split('.') as [string, string | undefined];
    const from = running as unknown as Record<string, Record<string, unknown>>;
    const to = next as unknown as Record<string, Record<string, unknown>>;
    if (tail === undefined) (to as Record<string, unknown>)[head] = (from as Record<string, unknown>)[head];
    else to[head]![tail] = from[head]![tail];
  }
}
