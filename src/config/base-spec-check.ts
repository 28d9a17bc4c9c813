// base_runtime_spec files are read when the config is: one that cannot be read or is not an OCI spec
// is an error at its key, as containerd refuses to start with it.
import { readFileSync } from 'node:fs';
import type { Diagnostic } from './model.ts';
import type { BuiltConfig } from './build.ts';
import { positionOf } from './build.ts';
import { baseSpecProblem } from '../oci/base-spec.ts';

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
  return baseSpecProblem(text);
}
