// `crid runtimeclass [--handler H] [--labels] [--measure [--pods N]]`: RuntimeClass YAML (or node
// labels) for the handlers of this node that pass their self-check.
import { hostname } from 'node:os';
import type { CridConfig } from '../config/model.ts';
import type { CliIO } from './config-command.ts';
import { processIO } from './config-command.ts';
import type { CheckResult } from '../handler-health/self-check.ts';
import { HandlerHealth } from '../handler-health/health.ts';
import { proposeOverhead } from '../handler-health/overhead.ts';
import { silentLogger } from '../log.ts';
import { ControlClient } from '../control/control-client.ts';
import { controlSocketPath } from '../control/control-server.ts';
import { loadForCli, unknownHandler } from './cli-config.ts';
import { passed } from './check.ts';
import {
  isRuntimeClassHandlerName,
  renderLabels,
  renderRuntimeClasses,
  type RuntimeClassEntry,
} from './runtimeclass-yaml.ts';
import { parseCommandArgs } from './parse-args.ts';

const USAGE = `Usage: crid runtimeclass [--handler H] [--labels] [--measure [--pods N]] [--config F]

Prints one node.k8s.io/v1 RuntimeClass per handler of this node that passes its self-check (the
running crid's latest results, deep ones included, else a local shallow check), for kubectl apply -f -.
Each selects nodes labelled runtime-handler.crid.io/<handler>=true and takes tolerations and
overhead.podFixed from [crid.runtimeclass.<handler>].

  --labels     print those node labels and the kubectl label node line instead
  --measure    ask the running crid to start --pods pause sandboxes per handler (default 5), measure
               shim and sandbox memory and idle CPU, remove them, and propose overhead.podFixed
`;

export async function runRuntimeClassCommand(argv: string[], io: CliIO = processIO): Promise<number> {
  const parsed = parseCommandArgs({
    args: argv,
    options: {
      handler: { type: 'string' },
      labels: { type: 'boolean' },
      measure: { type: 'boolean' },
      pods: { type: 'string', default: '5' },
      config: { type: 'string' },
      node: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if ('error' in parsed) return usage(io, parsed.error);
  const { values } = parsed;
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const pods = Number(values.pods);
  if (!Number.isInteger(pods) || pods < 1) return usage(io, `--pods must be a positive integer, got "${values.pods}"`);
  const config = loadForCli(values.config, io, 'runtimeclass');
  if (config === undefined) return 1;
  if (values.handler !== undefined && !Object.hasOwn(config.runtimes, values.handler))
    return unknownHandler(config, values.handler, io, 'runtimeclass');
  const client = new ControlClient(controlSocketPath(config.crid.state));
  const working = workingHandlers(await latestResults(config, client, io), values.handler, io);
  if (values.labels) {
    io.stdout.write(renderLabels(working, values.node ?? hostname()));
    return 0;
  }
  const entries: RuntimeClassEntry[] = working.map((handler) => ({
    handler,
    settings: config.crid.runtimeclass[handler],
  }));
  if (values.measure && !(await measure(entries, client, pods, io))) return 1;
  io.stdout.write(renderRuntimeClasses(entries.filter((e) => !values.measure || e.measured)));
  return 0;
}

/** The daemon's results (with deep checks) when it runs; else a shallow check here. */
async function latestResults(config: CridConfig, client: ControlClient, io: CliIO): Promise<CheckResult[]> {
  try {
    const results = await client.health();
    if (results.length > 0) return results;
  } catch {
    io.stderr.write('crid runtimeclass: crid is not running here; using a local shallow self-check\n');
  }
  return new HandlerHealth({ log: silentLogger, shallow: { searchPath: (io.env ?? process.env).PATH } }).check(config);
}

function workingHandlers(results: readonly CheckResult[], only: string | undefined, io: CliIO): string[] {
  const names: string[] = [];
  for (const r of results) {
    if (only !== undefined && r.handler !== only) continue;
    if (!isRuntimeClassHandlerName(r.handler)) {
      io.stderr.write(
        `crid runtimeclass: skipping handler "${r.handler}": not a lowercase DNS-1123 label of at most 63 characters\n`,
      );
    } else if (!passed(r)) {
      io.stderr.write(`crid runtimeclass: skipping handler "${r.handler}": ${r.ok ? r.deep!.reason : r.reason}\n`);
    } else {
      names.push(r.handler);
    }
  }
  return names;
}

/** Measures each handler in turn; one that fails is skipped with its reason. false when the daemon is unreachable. */
async function measure(entries: RuntimeClassEntry[], client: ControlClient, pods: number, io: CliIO): Promise<boolean> {
  for (const entry of entries) {
    let report: Awaited<ReturnType<ControlClient['measure']>>[number] | undefined;
    try {
      [report] = await client.measure(entry.handler, pods);
    } catch (err) {
      io.stderr.write(`crid runtimeclass: --measure: ${(err as Error).message}\n`);
      if ((err as { kind?: string }).kind === 'Unavailable') return false;
      continue;
    }
    if (report === undefined || !report.ok || report.samples.length === 0) {
      io.stderr.write(
        `crid runtimeclass: skipping handler "${entry.handler}": measuring failed: ${report?.reason || 'no samples'}\n`,
      );
      continue;
    }
    entry.measured = { proposal: proposeOverhead(report.samples), report };
  }
  return true;
}

function usage(io: CliIO, message: string): number {
  io.stderr.write(`crid runtimeclass: ${message}\n\n${USAGE}`);
  return 2;
}
