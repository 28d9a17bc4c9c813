// `crid check [--handler H] [--deep]`: self-check runtime handlers. The shallow check runs here; a
// deep check starts a real pause sandbox, which only the running daemon can, so it goes over the
// control socket.
import type { CliIO } from './config-command.ts';
import { processIO } from './config-command.ts';
import type { CheckResult } from '../handler-health/self-check.ts';
import { HandlerHealth } from '../handler-health/health.ts';
import { silentLogger } from '../log.ts';
import { ControlClient } from '../control/control-client.ts';
import { controlSocketPath } from '../control/control-server.ts';
import { loadForCli, unknownHandler } from './cli-config.ts';
import { parseCommandArgs } from './parse-args.ts';

const USAGE = `Usage: crid check [--handler H] [--deep] [--json] [--config F]

Checks each runtime handler (or only H): the shim binary resolves and is executable; for runc-type
shims the OCI runtime answers --version (and features); its state root is writable.
--deep asks the running crid (over <state>/control.sock) to also start and remove one real pause
sandbox per handler: only that finds problems the runtime has at run time (e.g. crun 1.8 on a
hybrid cgroup host without a v1 hugetlb hierarchy). Exit 0 when every checked handler passed, 1 when
one failed, 2 for an unknown handler or bad flags.
`;

export async function runCheckCommand(argv: string[], io: CliIO = processIO): Promise<number> {
  const parsed = parseCommandArgs({
    args: argv,
    options: {
      handler: { type: 'string' },
      deep: { type: 'boolean' },
      json: { type: 'boolean' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if ('error' in parsed) {
    io.stderr.write(`crid check: ${parsed.error}\n\n${USAGE}`);
    return 2;
  }
  const { values } = parsed;
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const config = loadForCli(values.config, io, 'check');
  if (config === undefined) return 1;
  if (values.handler !== undefined && !Object.hasOwn(config.runtimes, values.handler))
    return unknownHandler(config, values.handler, io, 'check');
  let results: CheckResult[];
  try {
    results = values.deep
      ? await new ControlClient(controlSocketPath(config.crid.state)).check(values.handler, true)
      : await new HandlerHealth({ log: silentLogger, shallow: { searchPath: (io.env ?? process.env).PATH } }).check(
          config,
          { only: values.handler },
        );
  } catch (err) {
    io.stderr.write(`crid check: ${(err as Error).message}\n`);
    return 1;
  }
  io.stdout.write(values.json ? `${JSON.stringify(results, null, 2)}\n` : formatResults(results));
  return results.every(passed) ? 0 : 1;
}

export function passed(r: CheckResult): boolean {
  return r.ok && r.deep?.ok !== false;
}

export function formatResults(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.handler.length));
  return results
    .map((r) => {
      const head = `${r.handler.padEnd(width)}  ${r.ok ? 'ok    ' : 'FAILED'}  ${r.ok ? details(r) : r.reason}`;
      if (r.deep === undefined) return `${head}\n`;
      const deep = r.deep.ok ? `ok, pause sandbox in ${r.deep.seconds.toFixed(2)} s` : `FAILED: ${r.deep.reason}`;
      return `${head}\n${' '.repeat(width)}  deep    ${deep}\n`;
    })
    .join('');
}

function details(r: CheckResult): string {
  const runtime = r.runtime
    ? `, ${r.runtime.version} (${r.runtime.binary}${r.runtime.features ? ', features' : ''})`
    : '';
  return `shim ${r.shim}${runtime}`;
}
