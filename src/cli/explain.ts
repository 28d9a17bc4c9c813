// `crid explain --handler H`: what a pod with this RuntimeClass handler would get, on this machine.
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CridConfig, RuntimeHandler } from '../config/model.ts';
import { processIO, type CliIO } from './config-command.ts';
import { configPath } from '../config/defaults.ts';
import { hasErrors, loadConfig } from '../config/load.ts';
import { formatDiagnostic } from '../config/diagnostics.ts';
import { resolveHandler } from '../config/resolve.ts';
import { findShimBinary, shimBinaryName, shimKind } from '../runtime/shim-binary.ts';
import { optionsSchemaName, shimOptions } from '../config/options.ts';
import { cgroupDriver } from '../runtime/cgroup-driver.ts';
import { DEFAULT_PROFILE_NAME } from '../oci/apparmor-profile.ts';
import { parseCommandArgs } from './parse-args.ts';

const USAGE = `Usage: crid explain [--handler H] [--config F]

Shows how crid would run a pod whose RuntimeClass handler is H ("" or absent: the default handler):
the shim binary and whether it exists here, shim kind, options sent to the shim, annotation
allow-lists, CNI config dir, snapshotter, sandbox mode and cgroup driver.

Options:
  --handler H  RuntimeClass handler name
  --config F   config file (default: $CRID_CONFIG, else /etc/crid/crid.toml)
  -h, --help   show this help

Exit 0 when the handler's shim and OCI runtime are found here, 1 when one is missing or the config
has errors, 2 for an unknown handler or bad flags.
`;

/** `argv` is what follows `crid explain`. */
export function runExplainCommand(argv: string[], io: CliIO = processIO): number {
  const parsed = parseCommandArgs({
    args: argv,
    options: {
      handler: { type: 'string', default: '' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if ('error' in parsed) {
    io.stderr.write(`crid explain: ${parsed.error}\n\n${USAGE}`);
    return 2;
  }
  const { values } = parsed;
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const env = io.env ?? process.env;
  const result = loadConfig(configPath(values.config, env));
  if (result.config === undefined || hasErrors(result.diagnostics)) {
    for (const d of result.diagnostics.filter((x) => x.severity === 'error'))
      io.stderr.write(`${formatDiagnostic(d)}\n`);
    return 1;
  }
  let handler: RuntimeHandler;
  try {
    handler = resolveHandler(result.config, values.handler);
  } catch (err) {
    io.stderr.write(`crid explain: ${(err as Error).message}\n`);
    return 2;
  }
  const searchPath = env.PATH ?? '';
  io.stdout.write(explainHandler(result.config, handler, searchPath));
  return isInstalled(handler, searchPath) ? 0 : 1;
}

/** Whether the shim binary and (for runc-type shims) the OCI runtime exist here. */
function isInstalled(h: RuntimeHandler, searchPath: string): boolean {
  try {
    findShimBinary(h, searchPath);
  } catch {
    return false;
  }
  const runtime = ociRuntimeName(h);
  return runtime === undefined || lookPath(runtime, searchPath) !== undefined;
}

/** The report text for one resolved handler; `searchPath` is the PATH shims are looked up in. */
export function explainHandler(config: CridConfig, h: RuntimeHandler, searchPath: string): string {
  const isDefault = h.name === config.default_runtime_name;
  const rows: [string, string][] = [
    [
      'handler',
      `${h.name}${isDefault ? ' (the default handler)' : ` (default handler: ${config.default_runtime_name})`}`,
    ],
    ['runtime_type', h.runtime_type],
    ['shim kind', shimKind(h) === 'v1' ? 'v1 (legacy containerd-shim)' : 'v2'],
    ['shim binary', shimBinaryLine(h, searchPath)],
    ['OCI runtime', ociRuntimeLine(h, searchPath)],
    ['options', optionsLine(h)],
    ['pod annotations', listOrNone(h.pod_annotations)],
    ['container annotations', listOrNone(h.container_annotations)],
    ['privileged without host devices', String(h.privileged_without_host_devices)],
    ['base runtime spec', h.base_runtime_spec || '(none)'],
    [
      'CNI conf dir',
      h.cni_conf_dir
        ? `${h.cni_conf_dir} (handler, max ${h.cni_max_conf_num || 'all'} files)`
        : `${config.cni.conf_dir} (global)`,
    ],
    ['CNI bin dirs', config.cni.bin_dirs.join(', ')],
    ['snapshotter', h.snapshotter ? `${h.snapshotter} (handler)` : `${config.snapshotter} (global)`],
    ['sandbox mode', h.sandbox_mode],
    ['cgroup driver', cgroupDriver(h) === 'systemd' ? 'systemd (SystemdCgroup = true)' : 'cgroupfs'],
    ['AppArmor RuntimeDefault', apparmorDefaultLine()],
  ];
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}\n`).join('');
}

function apparmorDefaultLine(): string {
  const enabled = (() => {
    try {
      return readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
    } catch {
      return false;
    }
  })();
  return enabled
    ? `profile ${DEFAULT_PROFILE_NAME} (loaded by crid on first use)`
    : 'unconfined (AppArmor is not enabled on this host)';
}

function shimBinaryLine(h: RuntimeHandler, searchPath: string): string {
  try {
    const binary = findShimBinary(h, searchPath);
    return `${binary} (exists${h.runtime_path ? ', from runtime_path' : ''})`;
  } catch (err) {
    const name = h.runtime_path || shimBinaryName(h.runtime_type);
    return `${name} NOT FOUND: ${(err as Error).message}`;
  }
}

/** The OCI runtime the shim will exec: BinaryName / Runtime / runtime_engine, default runc. */
function ociRuntimeLine(h: RuntimeHandler, searchPath: string): string {
  const name = ociRuntimeName(h);
  if (name === undefined) return '(decided by the shim)';
  const found = lookPath(name, searchPath);
  return found ? `${name} → ${found}` : `${name} NOT FOUND in PATH`;
}

/** undefined when the shim decides (not a runc-type shim). */
function ociRuntimeName(h: RuntimeHandler): string | undefined {
  const schema = optionsSchemaName(h.runtime_type);
  if (schema === 'runtimeoptions') return undefined;
  const configured = schema === 'runc' ? h.options.BinaryName : (h.options.Runtime ?? h.runtime_engine);
  return typeof configured === 'string' && configured !== '' ? configured : 'runc';
}

function optionsLine(h: RuntimeHandler): string {
  const options = shimOptions(h);
  if (options === undefined) return '(none sent)';
  return `${options.typeUrl} ${JSON.stringify(options.fields)}`;
}

function listOrNone(items: string[]): string {
  return items.length > 0 ? items.join(', ') : '(none)';
}

function lookPath(name: string, searchPath: string): string | undefined {
  const candidates = path.isAbsolute(name)
    ? [name]
    : searchPath
        .split(path.delimiter)
        .filter((d) => d !== '')
        .map((d) => path.join(d, name));
  return candidates.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
