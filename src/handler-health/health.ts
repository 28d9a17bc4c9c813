// The latest self-check result of every configured handler. RunPodSandbox asks `failed(name)` and
// answers FailedPrecondition with the reason; Status and the metrics read `all()`.
import type { CridConfig, RuntimeHandler } from '../config/model.ts';
import type { Logger } from '../log.ts';
import { invalidArgument } from '../errors.ts';
import { withRemedy } from './remedies.ts';
import { checkHandler, type CheckResult, type DeepCheckResult, type ShallowCheckOptions } from './self-check.ts';

/**
 * Runs one real pause sandbox on `handler` and removes it again (RunPodSandbox, StopPodSandbox,
 * RemovePodSandbox), leaving nothing behind even when it fails; rejects with the failure.
 * Must skip the `failed()` gate, or a handler could never pass again. Honours `signal`.
 */
export type RunPauseSandbox = (handler: string, signal: AbortSignal) => Promise<{ seconds: number }>;

export interface HandlerHealthOptions {
  log: Logger;
  /** Needed for deep checks; only the daemon has one. */
  runPauseSandbox?: RunPauseSandbox;
  shallow?: ShallowCheckOptions;
  /** Deep check timeout (default 60 s). */
  deepTimeoutMs?: number;
}

interface Entry {
  result: CheckResult;
  /** The handler settings the result is about: a deep result is kept only while they are unchanged. */
  settings: string;
}

export class HandlerHealth {
  private readonly opts: HandlerHealthOptions;
  private readonly entries = new Map<string, Entry>();

  constructor(opts: HandlerHealthOptions) {
    this.opts = opts;
  }

  /**
   * Shallow-checks every handler of `config` (or just `only`), forgets handlers no longer configured,
   * and returns the results sorted by handler. `deep` also runs a deep check of each passing handler.
   */
  async check(config: CridConfig, options: { only?: string; deep?: boolean } = {}): Promise<CheckResult[]> {
    const names =
      options.only !== undefined ? [requireHandler(config, options.only)] : Object.keys(config.runtimes).sort();
    if (options.only === undefined)
      for (const name of this.entries.keys()) if (!Object.hasOwn(config.runtimes, name)) this.entries.delete(name);
    const results = await Promise.all(names.map((name) => this.checkShallow(config.runtimes[name]!)));
    if (!options.deep) return results;
    const deep: CheckResult[] = [];
    for (const name of names) deep.push(await this.checkDeep(config, name));
    return deep;
  }

  /** Shallow check, then (when it passes) one real pause sandbox through the handler. */
  async checkDeep(config: CridConfig, name: string): Promise<CheckResult> {
    const handler = config.runtimes[requireHandler(config, name)]!;
    const shallow = await this.checkShallow(handler);
    if (!shallow.ok) return shallow;
    const run = this.opts.runPauseSandbox;
    if (run === undefined)
      throw invalidArgument('a deep check starts a pod: ask the running daemon (crid check --deep)');
    const deep = await deepCheck(run, name, this.opts.deepTimeoutMs ?? 60_000);
    const result = { ...shallow, deep };
    this.store(handler, result);
    this.opts.log[deep.ok ? 'info' : 'warn'](
      { handler: name, seconds: deep.seconds, reason: deep.reason },
      deep.ok ? 'deep check passed' : 'deep check failed',
    );
    return result;
  }

  get(name: string): CheckResult | undefined {
    return this.entries.get(name)?.result;
  }

  all(): CheckResult[] {
    return [...this.entries.values()].map((e) => e.result).sort((a, b) => a.handler.localeCompare(b.handler));
  }

  /** The reason the handler's last check (shallow or deep) failed; undefined when it passed or never ran. */
  failed(name: string): string | undefined {
    const result = this.get(name);
    if (result === undefined) return undefined;
    if (!result.ok) return result.reason;
    return result.deep && !result.deep.ok ? result.deep.reason : undefined;
  }

  private async checkShallow(handler: RuntimeHandler): Promise<CheckResult> {
    const result = await checkHandler(handler, this.opts.shallow);
    const previous = this.entries.get(handler.name);
    if (result.ok && previous?.result.deep && previous.settings === JSON.stringify(handler))
      result.deep = previous.result.deep;
    this.store(handler, result);
    if (!result.ok) this.opts.log.warn({ handler: handler.name, reason: result.reason }, 'handler self-check failed');
    return result;
  }

  private store(handler: RuntimeHandler, result: CheckResult): void {
    this.entries.set(handler.name, { result, settings: JSON.stringify(handler) });
  }
}

async function deepCheck(run: RunPauseSandbox, name: string, timeoutMs: number): Promise<DeepCheckResult> {
  const started = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  const timedOut = new Promise<never>((_, reject) => {
    signal.addEventListener('abort', () => reject(new Error(`deep check timed out after ${timeoutMs / 1000} s`)), {
      once: true,
    });
  });
  const finish = (ok: boolean, reason: string, seconds?: number): DeepCheckResult => ({
    ok,
    reason,
    seconds: seconds ?? (performance.now() - started) / 1000,
    checkedAt: new Date().toISOString(),
  });
  try {
    const { seconds } = await Promise.race([run(name, signal), timedOut]);
    return finish(true, '', seconds);
  } catch (err) {
    return finish(false, withRemedy(`deep check: ${err instanceof Error ? err.message : String(err)}`));
  }
}

/** The handler name, or InvalidArgument listing the configured handlers. */
export function requireHandler(config: CridConfig, name: string): string {
  if (Object.hasOwn(config.runtimes, name)) return name;
  throw invalidArgument(
    `unknown handler "${name}" (configured handlers: ${Object.keys(config.runtimes).sort().join(', ')})`,
  );
}
