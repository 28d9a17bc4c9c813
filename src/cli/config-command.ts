// `crid config default|check|dump`: argv in, text out, exit code back.
import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';
import { configPath, defaultRestrictOomScoreAdj } from '../config/defaults.ts';
import { renderDefaultConfig } from '../config/default-config.ts';
import { hasErrors, loadConfig, type LoadResult } from '../config/load.ts';
import { formatDiagnostic } from '../config/diagnostics.ts';
import { dumpJson, dumpToml } from '../config/dump.ts';

export interface CliIO {
  stdout: Writable;
  stderr: Writable;
  env?: NodeJS.ProcessEnv;
}

const USAGE = `Usage: crid config <command> [options]

Commands:
  default                 print a commented default config (containerd version-2 layout plus [crid])
  check [--config F]      report errors and warnings with file:line:column; exit 1 on errors
  dump  [--config F] [--format toml|json]
                          print the effective merged config, each key with the file that set it

Options:
  --config F   config file (default: $CRID_CONFIG, else /etc/crid/crid.toml)
  -h, --help   show this help
`;

export const processIO: CliIO = { stdout: process.stdout, stderr: process.stderr };

/** `argv` is what follows `crid config`. */
export function runConfigCommand(argv: string[], io: CliIO = processIO): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        format: { type: 'string', default: 'toml' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return usageError(io, (err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const [command, ...extra] = positionals;
  if (extra.length > 0) return usageError(io, `unexpected argument "${extra[0]}"`);
  const file = configPath(values.config, io.env ?? process.env);
  switch (command) {
    case 'default':
      io.stdout.write(renderDefaultConfig(defaultRestrictOomScoreAdj()));
      return 0;
    case 'check':
      return check(file, io);
    case 'dump':
      if (values.format !== 'toml' && values.format !== 'json') return usageError(io, `--format must be toml or json, got "${values.format}"`);
      return dump(file, values.format, io);
    default:
      return usageError(io, command === undefined ? 'missing command' : `unknown command "${command}"`);
  }
}

function check(file: string, io: CliIO): number {
  const result = loadConfig(file);
  for (const d of result.diagnostics) io.stdout.write(`${formatDiagnostic(d)}\n`);
  const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = result.diagnostics.length - errors;
  io.stdout.write(`${file}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}\n`);
  return errors > 0 ? 1 : 0;
}

function dump(file: string, format: 'toml' | 'json', io: CliIO): number {
  const result: LoadResult = loadConfig(file);
  for (const d of result.diagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);
  if (result.config === undefined) return 1;
  const input = { config: result.config, files: result.files, sources: result.sources };
  io.stdout.write(format === 'json' ? dumpJson(input) : dumpToml(input));
  return hasErrors(result.diagnostics) ? 1 : 0;
}

function usageError(io: CliIO, message: string): number {
  io.stderr.write(`crid config: ${message}\n\n${USAGE}`);
  return 2;
}
