// The shallow self-check of one runtime handler: what can be verified without starting a pod.
// The shim binary resolves and is executable; a runc-type shim's OCI runtime is found and answers
// `--version` (and `features` where the runtime has it); the runtime's state root is writable.
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RuntimeHandler } from '../config/model.ts';
import { findShimBinary, lookPath, ociRuntimeOf } from '../runtime/shim-binary.ts';

export interface DeepCheckResult {
  ok: boolean;
  reason: string;
  /** How long the pause sandbox took to run, stop and remove (or until it failed). */
  seconds: number;
  checkedAt: string;
}

export interface CheckResult {
  handler: string;
  ok: boolean;
  /** Why the check failed; "" when it passed. */
  reason: string;
  /** ISO 8601 time the check finished. */
  checkedAt: string;
  durationMs: number;
  /** Absolute shim binary, when it resolved. */
  shim?: string;
  /** The OCI runtime a runc-type shim runs, when it answered. */
  runtime?: { binary: string; version: string; features: boolean };
  /** The last deep check (a real pause sandbox), when one ran for these handler settings. */
  deep?: DeepCheckResult;
}

export interface ShallowCheckOptions {
  /** PATH the shim and the OCI runtime are looked up in. */
  searchPath?: string;
  /** Per command (`--version`, `features`). */
  timeoutMs?: number;
}

class CheckFailure extends Error {}

export async function checkHandler(handler: RuntimeHandler, opts: ShallowCheckOptions = {}): Promise<CheckResult> {
  const started = performance.now();
  const result: CheckResult = { handler: handler.name, ok: true, reason: '', checkedAt: '', durationMs: 0 };
  try {
    result.shim = shimStep(handler, opts.searchPath ?? process.env.PATH ?? '');
    const oci = ociRuntimeOf(handler);
    if (oci !== undefined) {
      result.runtime = await runtimeStep(oci.binary, opts.searchPath ?? process.env.PATH ?? '', opts.timeoutMs ?? 5000);
      rootStep(oci.root);
    }
    configPathStep(handler);
  } catch (err) {
    result.ok = false;
    result.reason = err instanceof Error ? err.message : String(err);
  }
  result.durationMs = Math.round(performance.now() - started);
  result.checkedAt = new Date().toISOString();
  return result;
}

function shimStep(handler: RuntimeHandler, searchPath: string): string {
  try {
    return findShimBinary(handler, searchPath);
  } catch (err) {
    throw new CheckFailure(`shim: ${(err as Error).message}`);
  }
}

async function runtimeStep(
  name: string,
  searchPath: string,
  timeoutMs: number,
): Promise<NonNullable<CheckResult['runtime']>> {
  const binary = lookPath(name, searchPath);
  if (binary === undefined)
    throw new CheckFailure(`OCI runtime "${name}" not found${path.isAbsolute(name) ? '' : ` in PATH (${searchPath})`}`);
  const version = await run(binary, ['--version'], timeoutMs);
  if (version.failure !== undefined) throw new CheckFailure(`OCI runtime ${binary} --version: ${version.failure}`);
  const features = await run(binary, ['features'], timeoutMs);
  return { binary, version: version.stdout.split('\n')[0]!.trim(), features: featuresAnswer(binary, features) };
}

/** true when `features` answered JSON, false when the runtime has no such command (crun 1.8, runc < 1.1). */
function featuresAnswer(binary: string, features: RunResult): boolean {
  if (features.failure !== undefined) {
    if (/unknown command|no help topic|invalid command/i.test(`${features.stdout}${features.stderr}`)) return false;
    throw new CheckFailure(`OCI runtime ${binary} features: ${features.failure}`);
  }
  try {
    JSON.parse(features.stdout);
    return true;
  } catch {
    throw new CheckFailure(`OCI runtime ${binary} features: output is not JSON: ${features.stdout.slice(0, 200)}`);
  }
}

/** The shim passes this root to the runtime, which creates it: create it likewise and write a file. */
function rootStep(root: string): void {
  const probe = path.join(root, `.crid-check-${process.pid}`);
  try {
    mkdirSync(root, { recursive: true, mode: 0o711 });
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (err) {
    throw new CheckFailure(`OCI runtime root ${root} is not writable: ${(err as Error).message}`);
  }
}

/** A runtimeoptions shim (kata) reads ConfigPath at start: it must exist. */
function configPathStep(handler: RuntimeHandler): void {
  const file = handler.options.ConfigPath;
  if (typeof file !== 'string' || file === '') return;
  try {
    accessSync(file, constants.R_OK);
  } catch (err) {
    throw new CheckFailure(`options.ConfigPath ${file} is not readable: ${(err as Error).message}`);
  }
}

interface RunResult {
  stdout: string;
  stderr: string;
  /** Why the command did not exit 0 (exit code, signal, timeout, spawn error). */
  failure?: string;
}

function run(file: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err === null) return resolve({ stdout, stderr });
      const output = `${stderr}`.trim() || `${stdout}`.trim();
      const why = err.killed
        ? `no answer within ${timeoutMs} ms`
        : typeof err.code === 'number'
          ? `exit code ${err.code}`
          : err.message;
      resolve({ stdout, stderr, failure: output === '' ? why : `${why}: ${output.split('\n')[0]}` });
    });
  });
}
