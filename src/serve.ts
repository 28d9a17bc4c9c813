// `crid serve`: load and validate the config (errors stop crid before it binds its socket),
// run the daemon, reload on SIGHUP, and stop cleanly on SIGTERM/SIGINT.
import { loadConfig } from './config/load.ts';
import { configPath } from './config/defaults.ts';
import { formatDiagnostic } from './config/diagnostics.ts';
import type { CridConfig } from './config/model.ts';
import { createLogger, logFormat } from './log.ts';
import { Daemon } from './daemon.ts';
import { serviceNotifier } from './systemd/notify.ts';

export interface ServeOptions {
  configPath?: string;
  socket?: string;
  logLevel?: string;
}

export async function serveDaemon(opts: ServeOptions): Promise<number> {
  const file = configPath(opts.configPath);
  const loaded = loadConfig(file);
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  if (!loaded.config || errors.length > 0) {
    process.stderr.write(`crid: invalid config ${file}:\n${errors.map(formatDiagnostic).join('\n')}\n`);
    return 1;
  }
  const adjust = (config: CridConfig) => {
    if (opts.socket) config.crid.socket = opts.socket;
  };
  const config = loaded.config;
  adjust(config);
  const log = createLogger(opts.logLevel ?? config.crid.log_level, logFormat(config.crid.log_format, process.stderr));
  for (const w of loaded.diagnostics) log.warn({ keyPath: w.keyPath }, formatDiagnostic(w));

  const daemon = new Daemon({
    config,
    configPath: file,
    metricsAddressExplicit: loaded.sources.has('crid.metrics_address'),
    adjust,
    log,
  });
  // A promise nobody awaited is a crid bug, but not a reason to drop every client: log it loudly.
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled promise rejection (a crid bug)'));
  // So is an exception nothing caught. It broke the one operation it came from; exiting would break
  // every other one and leave the node's pods unmanageable until crid is back (and again, if a
  // client repeats what triggered it), so crid logs it and serves on.
  process.on('uncaughtException', (err) => log.error({ err }, 'uncaught exception (a crid bug)'));
  const systemd = serviceNotifier(process.env, log);
  // Registered first: SIGHUP's default action would end crid while it starts.
  process.on('SIGHUP', () => {
    daemon
      .reload()
      .then(() => systemd.status(daemon.statusLine()))
      .catch((err: unknown) => log.error({ err }, 'config reload failed'));
  });
  // Also registered before starting: a stop asked for during start is carried out once crid has
  // started, rather than killing it halfway. `on`, not `once`: a second signal while crid stops must
  // not take the default action, which would end crid halfway.
  const stopSignal = new Promise<string>((resolve) => {
    process.on('SIGTERM', () => resolve('SIGTERM'));
    process.on('SIGINT', () => resolve('SIGINT'));
  });
  try {
    await daemon.start();
  } catch (err) {
    log.fatal({ err }, 'crid failed to start');
    await daemon.stop().catch(() => {});
    const message = err instanceof Error ? err.message : String(err);
    await systemd.status(`failed to start: ${message}`);
    process.stderr.write(`crid: ${message}\n`);
    return 1;
  }
  // Only now: recovery is done and the CRI socket answers, so units ordered After=crid may start.
  await systemd.ready(daemon.statusLine());
  const signal = await stopSignal;
  log.info({ signal }, 'shutting down');
  await systemd.stopping(`stopping on ${signal}; pods keep running`);
  await daemon.stop();
  return 0;
}
