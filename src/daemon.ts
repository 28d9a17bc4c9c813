// Wiring and ordered start/stop of the daemon: config → stores → recovery → gRPC server.
import type { CridConfig } from './config/model.ts';
import type { Logger } from './log.ts';
import { CriServer } from './server/grpc-server.ts';
import type { HandlerTable } from './server/rpc.ts';
import { version } from './cri/runtime/version.ts';
import { status, type NetworkReadiness } from './cri/runtime/status.ts';
import { runtimeConfig } from './cri/runtime/runtime-config.ts';
import { updateRuntimeConfig } from './cri/runtime/update-runtime-config.ts';

export interface DaemonOptions {
  config: CridConfig;
  /** The main config file, re-read on reload. */
  configPath: string;
  log: Logger;
}

export class Daemon {
  private config: CridConfig;
  private readonly log: Logger;
  private server: CriServer | undefined;
  private ready = false;
  private readonly podCidr = { podCidr: '' };

  constructor(opts: DaemonOptions) {
    this.config = opts.config;
    this.log = opts.log;
  }

  private runtimeHandlers(): HandlerTable {
    const config = () => this.config;
    return {
      Version: version,
      Status: status({ config, networkStatus: async (): Promise<NetworkReadiness> => ({ ready: false, reason: 'NetworkPluginNotReady', message: 'CNI is not wired yet' }) }),
      RuntimeConfig: runtimeConfig(config),
      UpdateRuntimeConfig: updateRuntimeConfig(this.podCidr, this.log),
    };
  }

  async start(): Promise<void> {
    this.server = new CriServer(
      this.config.crid.socket,
      { runtime: this.runtimeHandlers(), image: {} },
      { log: this.log, isReady: () => this.ready },
    );
    await this.server.start();
    this.ready = true;
    this.log.info({ socket: this.config.crid.socket }, 'crid is serving CRI');
  }

  async stop(): Promise<void> {
    this.ready = false;
    await this.server?.stop();
    this.log.info('crid stopped');
  }
}
