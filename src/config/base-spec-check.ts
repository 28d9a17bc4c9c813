// base_runtime_spec files are read when the config is: one that cannot be read or is not an OCI spec
// is an error at its key, as containerd refuses to start with it. The same parse serves the specs
// built later (oci/base-spec.ts), so a file that changed since is refused there too.
import { readFileSync } from 'node:fs';
import type { Diagnostic } from './model.ts';
import type { BuiltConfig } from './build.ts';
import { positionOf } from './build.ts';

type JsonObject = Record<string, unknown>;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

export function baseSpecDiagnostics(built: BuiltConfig): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const handler of Object.values(built.config.runtimes)) {
    const file = handler.base_runtime_spec;
    if (!file) continue;
    const problem = fileProblem(file);
    if (!problem) continue;
    const key = `runtimes.${handler.name}.base_runtime_spec`;
    const at = built.sources.get(key);
    diagnostics.push({
      severity: 'error',
      message: `base_runtime_spec ${JSON.stringify(file)} of handler "${handler.name}": ${problem}`,
      keyPath: at?.keyPath ?? key,
      ...(at && { position: positionOf(at) }),
    });
  }
  return diagnostics;
}

function fileProblem(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return `cannot be read: ${(err as Error).message}`;
  }
  const parsed = parseBaseSpec(text);
  return 'problem' in parsed ? parsed.problem : undefined;
}

/** JSON integers beyond 2^53 (memory limits) are kept exact as bigint, as crid's own spec has them. */
function parseExact(text: string): unknown {
  const reviver = (_key: string, value: unknown, context?: { source?: string }) =>
    typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value) && context?.source
      ? BigInt(context.source)
      : value;
  return JSON.parse(text, reviver as (key: string, value: unknown) => unknown);
}

/** A base spec's JSON text as an object crid can start from, or what is wrong with it. */
export function parseBaseSpec(text: string): { spec: JsonObject } | { problem: string } {
  let spec: unknown;
  try {
    spec = parseExact(text);
  } catch (err) {
    return { problem: `not valid JSON: ${(err as Error).message}` };
  }
  if (!isObject(spec)) return { problem: 'not a JSON object (an OCI runtime spec)' };
  for (const key of ['process', 'root', 'linux', 'annotations', 'hooks'] as const) {
    if (spec[key] !== undefined && !isObject(spec[key])) return { problem: `"${key}" is not an object` };
  }
  if (spec.mounts !== undefined && !Array.isArray(spec.mounts)) return { problem: '"mounts" is not an array' };
  const env = isObject(spec.process) ? spec.process.env : undefined;
  if (env !== undefined && !(Array.isArray(env) && env.every((e) => typeof e === 'string')))
    return { problem: '"process.env" is not an array of strings' };
  return { spec };
}
