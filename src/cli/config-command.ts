// `crid config default|check|dump`: argv in, text out, exit code back.
import type { Writable } from 'node:stream';
import { configPath } from '../config/defaults.ts';
import { renderDefaultConfig } from '../config/default-config.ts';
import { hasErrors, loadConfig, type LoadResult } from '../config/load.ts';
import { formatDiagnostic } from '../config/diagnostics.ts';
import { dumpJson, dumpToml } from '../config/dump.ts';
import { formatDiff } from '../config/config-diff.ts';
import type { ReloadResult } from '../config/reload.ts';
import { ControlClient } from '../control/control-client.ts';
import { controlSocketPath } from '../control/control-server.ts';
import { parseCommandArgs } from './parse-args.ts';

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
  reload [--config F]     make the running crid re-read its config (also SIGHUP); prints the diff,
                          or the errors with file:line:column (the old config stays in force)

Options:
  --config F   config file (default: $CRID_CONFIG, else /etc/crid/crid.toml)
  -h, --help   show this help
`;

export const processIO: CliIO = { stdout: process.stdout, stderr: process.stderr };

/** `argv` is what follows `crid config`. Only `reload` (which talks to the daemon) is asynchronous. */
export function runConfigCommand(argv: string[], io: CliIO = processIO): number | Promise<number> {
  const parsed = parseCommandArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      format: { type: 'string', default: 'toml' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if ('error' in parsed) return usageError(io, parsed.error);
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
      io.stdout.write(renderDefaultConfig());
      return 0;
    case 'check':
      return check(file, io);
    case 'reload':
      return reload(file, io);
    case 'dump':
      if (values.format !== 'toml' && values.format !== 'json')
        return usageError(io, `--format must be toml or json, got "${values.format}"`);
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
  io.stdout.write(
    `${file}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}\n`,
  );
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

/** The running crid re-reads and validates its config; a file it cannot be asked about is checked here. */
async function reload(file: string, io: CliIO): Promise<number> {
  const loaded = loadConfig(file);
  const printErrors = () => {
    for (const d of loaded.diagnostics.filter((x) => x.severity === 'error'))
      io.stderr.write(`${formatDiagnostic(d)}\n`);
  };
  if (loaded.config === undefined) {
    printErrors();
    return 1;
  }
  let result: ReloadResult;
  try {
    result = await new ControlClient(controlSocketPath(loaded.config.crid.state)).reload();
  } catch (err) {
    io.stderr.write(`crid config reload: ${(err as Error).message}\n`);
    printErrors();
    return 1;
  }
  if (!result.ok) {
    for (const d of result.errors) io.stderr.write(`${formatDiagnostic(d)}\n`);
    io.stderr.write('crid config reload: rejected; the running config stays in force\n');
    return 1;
  }
  for (const d of result.warnings) io.stderr.write(`${formatDiagnostic(d)}\n`);
  io.stdout.write(formatDiff(result.diff));
  return 0;
}

function usageError(io: CliIO, message: string): number {
  io.stderr.write(`crid config: ${message}\n\n${USAGE}`);
  return 2;
}
