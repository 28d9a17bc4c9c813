// A handler's base_runtime_spec: the OCI spec file its containers and sandboxes start from, as in
// containerd. What crid sets from the CRI request overrides the base key by key; the base keeps what
// crid does not set (rlimits, hooks, extra annotations, sysctls), its env entries unless crid sets
// the same variable, and its mounts unless crid mounts at the same destination (after crid's, so a
// base mount under /dev is not hidden by crid's /dev).
import fs from 'node:fs';
import path from 'node:path';
import { parseBaseSpec } from '../config/base-spec-check.ts';
import { failedPrecondition } from '../errors.ts';
import { mergeEnv } from './process.ts';
import type { Mount, Spec } from './spec-types.ts';

type JsonObject = Record<string, unknown>;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The base spec file's content; a file that became unreadable or invalid since the config was checked fails the call. */
export async function readBaseSpec(file: string): Promise<JsonObject> {
  const text = await fs.promises.readFile(file, 'utf8').catch((err: unknown) => {
    throw failedPrecondition(`base_runtime_spec ${file} cannot be read: ${(err as Error).message}`, err);
  });
  const parsed = parseBaseSpec(text);
  if ('problem' in parsed) throw failedPrecondition(`base_runtime_spec ${file}: ${parsed.problem}`);
  return parsed.spec;
}

/** Objects merge key by key, the second winning; anything else is replaced by the second. */
function overlay(base: unknown, over: unknown): unknown {
  if (!isObject(base) || !isObject(over)) return over === undefined ? base : over;
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = overlay(base[key], value);
  return out;
}

/** `spec` on top of `base`: see the module comment. */
export function onBaseSpec(base: JsonObject, spec: Spec): Spec {
  const merged = overlay(base, spec) as Spec;
  const baseProcess = isObject(base.process) ? base.process : {};
  const baseEnv = Array.isArray(baseProcess.env) ? (baseProcess.env as string[]) : [];
  const baseMounts = Array.isArray(base.mounts) ? (base.mounts as Mount[]) : [];
  const taken = new Set(spec.mounts.map((m) => path.posix.resolve('/', m.destination)));
  const extraMounts = baseMounts.filter((m) => !taken.has(path.posix.resolve('/', m.destination)));
  return {
    ...merged,
    process: { ...merged.process, env: mergeEnv(baseEnv, spec.process.env) },
    mounts: [...spec.mounts, ...extraMounts],
  };
}

/** The spec a handler's container or sandbox gets: `spec` alone, or on top of the handler's base spec. */
export async function withBaseSpec(baseSpecFile: string, spec: Spec): Promise<Spec> {
  return baseSpecFile ? onBaseSpec(await readBaseSpec(baseSpecFile), spec) : spec;
}
