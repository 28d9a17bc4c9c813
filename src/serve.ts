// `crid serve`: load and validate the config (errors stop crid before it binds its socket),
// run the daemon, and stop it cleanly on SIGTERM/SIGINT.
import { loadConfigOrThrow } from './config/load.ts';
import { configPath } from './config/defaults.ts';
import { formatDiagnostic } from './config/diagnostics.ts';
import { createLogger } from './log.ts';
import { Daemon } from './daemon.ts';

export interface ServeOptions {
  configPath?: string;
  socket?: string;
  logLevel?: string;
}

export async function serveDaemon(opts: ServeOptions): Promise<number> {
  const file = configPath(opts.configPath);
  let loaded;
  try {
    loaded = loadConfigOrThrow(file);
  } catch (err) {
    process.stderr.write(`crid: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const { config, warnings } = loaded;
  if (opts.socket) config.crid.socket = opts.socket;
  const log = createLogger(opts.logLevel ?? config.crid.log_level);
  for (const w of warnings) log.warn({ keyPath: w.keyPath }, formatDiagnostic(w));

  const daemon = new Daemon({ config, configPath: file, log });
  try {
    await daemon.start();
  } catch (err) {
    log.fatal({ err }, 'crid failed to start');
    await daemon.stop().catch(() => {});
    process.stderr.write(`crid: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      log.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
  await daemon.stop();
  return 0;
}
