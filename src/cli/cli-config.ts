// Config loading shared by the operations commands: errors printed with positions, exit 1.
import type { CridConfig } from '../config/model.ts';
import type { CliIO } from './config-command.ts';
import { configPath } from '../config/defaults.ts';
import { hasErrors, loadConfig } from '../config/load.ts';
import { formatDiagnostic } from '../config/diagnostics.ts';

/** The config, or undefined after printing its errors to stderr. */
export function loadForCli(flag: string | undefined, io: CliIO, command: string): CridConfig | undefined {
  const file = configPath(flag, io.env ?? process.env);
  const result = loadConfig(file);
  if (result.config !== undefined && !hasErrors(result.diagnostics)) return result.config;
  for (const d of result.diagnostics.filter((x) => x.severity === 'error')) io.stderr.write(`${formatDiagnostic(d)}\n`);
  io.stderr.write(`crid ${command}: ${file} has errors\n`);
  return undefined;
}

/** exit 2 with the configured handlers listed, when `name` is not one of them. */
export function unknownHandler(config: CridConfig, name: string, io: CliIO, command: string): number {
  io.stderr.write(
    `crid ${command}: unknown handler "${name}" (configured handlers: ${Object.keys(config.runtimes).sort().join(', ')})\n`,
  );
  return 2;
}
