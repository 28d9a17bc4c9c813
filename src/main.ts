// crid's command line. Each command loads only what it needs: `publish` runs once per event
// of a legacy shim and must start fast.
import { isAbsolute } from 'node:path';
import { CRID_VERSION } from './version.ts';
import { LOG_LEVELS } from './config/defaults.ts';
import { parseCommandArgs } from './cli/parse-args.ts';

const USAGE = `crid ${CRID_VERSION}: a Kubernetes CRI runtime that drives containerd shims directly

Usage: crid <command> [flags]

Commands:
  serve        serve CRI on the unix socket (--config F, --socket PATH, --log-level L)
  config       default | check | dump | reload: print, validate, resolve or reload the config
  explain      --handler H: what a pod with handler H would get on this machine
  check        [--handler H] [--deep]: self-check the runtime handlers
  runtimeclass [--labels] [--measure]: RuntimeClass objects and node labels for the working handlers
  images       import FILE: load an image archive (OCI layout or docker save) into the running crid
  publish      relay an event of a legacy v1 shim to the running crid (called by the shim)
  version      print crid's version

Run 'crid <command> --help' for a command's flags.

Exit status, the same for every command:
  0  ok
  1  a config or runtime fault: the config has errors (printed as file:line:column), a handler's
     shim or OCI runtime is missing or failed its check, the running crid cannot be reached
  2  usage: an unknown command, flag, flag value or handler name
`;

const SERVE_USAGE = `Usage: crid serve [--config FILE] [--socket PATH] [--log-level LEVEL]

  --config FILE      containerd-style config.toml (default: $CRID_CONFIG or /etc/crid/crid.toml)
  --socket PATH      CRI socket path, overriding [crid] socket
  --log-level LEVEL  trace, debug, info, warn, error, fatal, silent (default: [crid] log_level)
`;

async function serve(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      socket: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if ('error' in parsed) return usageError(`crid serve: ${parsed.error}`, SERVE_USAGE);
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(SERVE_USAGE);
    return 0;
  }
  if (values.socket !== undefined && !isAbsolute(values.socket))
    return usageError(`crid serve: --socket must be an absolute path, got "${values.socket}"`, SERVE_USAGE);
  const level = values['log-level'];
  if (level !== undefined && !LOG_LEVELS.includes(level))
    return usageError(`crid serve: --log-level must be one of ${LOG_LEVELS.join(', ')}`, SERVE_USAGE);
  const { serveDaemon } = await import('./serve.ts');
  return serveDaemon({ configPath: values.config, socket: values.socket, logLevel: values['log-level'] });
}

async function main(argv: string[]): Promise<number> {
  // The legacy shim runs `<crid> --address A publish --topic T --namespace N`: flags come first.
  if (argv.includes('publish')) return (await import('./cli/publish.ts')).runPublishCommand(argv);
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'config':
      return (await import('./cli/config-command.ts')).runConfigCommand(rest);
    case 'explain':
      return (await import('./cli/explain.ts')).runExplainCommand(rest);
    case 'check':
      return (await import('./cli/check.ts')).runCheckCommand(rest);
    case 'runtimeclass':
      return (await import('./cli/runtimeclass.ts')).runRuntimeClassCommand(rest);
    case 'images':
      return (await import('./cli/images.ts')).runImagesCommand(rest);
    case 'version':
    case '--version':
      process.stdout.write(`crid ${CRID_VERSION}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      return usageError(`crid: unknown command "${command}"`, USAGE);
  }
}

function usageError(message: string, usage: string): number {
  process.stderr.write(`${message}\n\n${usage}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`crid: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
