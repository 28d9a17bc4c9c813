// Wiring and ordered start/stop of the daemon: config → stores → events → recovery → gRPC server.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CridConfig } from './config/model.ts';
import type { Logger } from './log.ts';
import { CriServer } from './server/grpc-server.ts';
import type { HandlerTable } from './server/rpc.ts';
import { version } from './cri/runtime/version.ts';
import { status } from './cri/runtime/status.ts';
import { runtimeConfig } from './cri/runtime/runtime-config.ts';
import { updateRuntimeConfig } from './cri/runtime/update-runtime-config.ts';
import { runPodSandbox } from './cri/runtime/sandbox-run.ts';
import { stopPodSandboxRpc } from './cri/runtime/sandbox-stop.ts';
import { removePodSandboxRpc } from './cri/runtime/sandbox-remove.ts';
import { podSandboxStatus } from './cri/runtime/sandbox-status.ts';
import { listPodSandbox } from './cri/runtime/sandbox-list.ts';
import { containerHandlers } from './cri/runtime/container-handlers.ts';
import { imageServiceHandlers } from './cri/image/index.ts';
import { ImageService } from './image/image-service.ts';
import { ExitMonitor } from './events/exit-monitor.ts';
import { EventServer } from './events/event-server.ts';
import { ShimManager } from './runtime/shim-manager.ts';
import { networkStatus } from './network/pod-network.ts';
import { readHostFacts } from './oci/host.ts';
import { ObjectStore } from './store/object-store.ts';
import { NameRegistrar } from './store/name-registrar.ts';
import type { SandboxRecord } from './store/sandbox.ts';
import type { ContainerRecord } from './store/container.ts';
import { KeyedMutex } from './util/keyed-mutex.ts';
import { ContainerEvents } from './pod/container-events.ts';
import type { PodDeps } from './pod/deps.ts';
import { watchTaskExits } from './pod/task-exits.ts';
import { watchContainerOomKills } from './pod/container-oom.ts';
import { recoverState } from './pod/recovery.ts';

/** `crid publish` is run by legacy shims for each event: this wrapper runs crid with its own Node. */
const CRID_EXECUTABLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../scripts/crid');

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
  private events: EventServer | undefined;
  private shims: ShimManager | undefined;
  private stopWatchingExits: (() => void) | undefined;
  private stopWatchingOomKills: (() => void) | undefined;
  private ready = false;
  private readonly podCidr = { podCidr: '' };

  constructor(opts: DaemonOptions) {
    this.config = opts.config;
    this.log = opts.log;
  }

  private eventsSocket(): string {
    return path.join(this.config.crid.state, 'events.sock');
  }

  private async buildDeps(): Promise<PodDeps> {
    const cfg = this.config;
    const monitor = new ExitMonitor(this.log);
    const images = await ImageService.open({
      root: cfg.crid.root,
      registryConfigPath: cfg.registry_config_path,
      log: this.log,
      pinnedImages: [cfg.sandbox_image],
    });
    this.shims = new ShimManager({
      stateDir: cfg.crid.state,
      namespace: cfg.crid.shim_namespace,
      eventsAddress: this.eventsSocket(),
      shimAddress: cfg.crid.socket,
      publishBinary: CRID_EXECUTABLE,
      monitor,
      log: this.log,
    });
    return {
      config: () => this.config,
      sandboxes: new ObjectStore<SandboxRecord>('pod sandbox', path.join(cfg.crid.root, 'store', 'sandboxes')),
      containers: new ObjectStore<ContainerRecord>('container', path.join(cfg.crid.root, 'store', 'containers')),
      names: new NameRegistrar(),
      images,
      shims: this.shims,
      monitor,
      events: new ContainerEvents(),
      locks: new KeyedMutex(),
      logWriters: new Map(),
      host: await readHostFacts(),
      handlerFailure: () => undefined,
      log: this.log,
    };
  }

  private runtimeHandlers(deps: PodDeps): HandlerTable {
    const config = () => this.config;
    const cni = () => this.config.cni;
    return {
      Version: version,
      Status: status({ config, networkStatus: () => networkStatus(cni().conf_dir, cni().bin_dirs, cni().max_conf_num) }),
      RuntimeConfig: runtimeConfig(config),
      UpdateRuntimeConfig: updateRuntimeConfig(this.podCidr, this.log),
      RunPodSandbox: runPodSandbox(deps),
      StopPodSandbox: stopPodSandboxRpc(deps),
      RemovePodSandbox: removePodSandboxRpc(deps),
      PodSandboxStatus: podSandboxStatus(deps),
      ListPodSandbox: listPodSandbox(deps),
      ...containerHandlers(deps),
    };
  }

  private imageHandlers(deps: PodDeps): HandlerTable {
    const inUse = (imageId: string) =>
      deps.containers.list().some((c) => c.imageId === imageId) || deps.sandboxes.list().some((s) => s.imageId === imageId);
    return imageServiceHandlers({ images: deps.images, log: this.log, isImageInUse: inUse });
  }

  async start(): Promise<void> {
    const cfg = this.config;
    await fs.promises.mkdir(cfg.crid.state, { recursive: true, mode: 0o711 });
    await fs.promises.mkdir(cfg.crid.root, { recursive: true, mode: 0o711 });
    const deps = await this.buildDeps();
    this.server = new CriServer(
      cfg.crid.socket,
      { runtime: this.runtimeHandlers(deps), image: this.imageHandlers(deps) },
      { log: this.log, isReady: () => this.ready },
    );
    // Claim the CRI socket first: a second crid must stop before it touches the first one's shims.
    await this.server.start();
    this.events = new EventServer(deps.monitor, this.log);
    await fs.promises.rm(this.eventsSocket(), { force: true });
    await this.events.listen(this.eventsSocket());
    this.stopWatchingExits = watchTaskExits(deps);
    this.stopWatchingOomKills = watchContainerOomKills(deps);
    this.log.info({ socket: cfg.crid.socket }, 'crid is serving CRI');
    await recoverState(deps);
    this.ready = true;
    this.log.info('state recovered; crid is ready');
  }

  async stop(): Promise<void> {
    this.ready = false;
    await this.server?.stop();
    this.stopWatchingExits?.();
    this.stopWatchingOomKills?.();
    // The shims keep running: a restarted crid reconnects to them.
    await this.shims?.close();
    await this.events?.close();
    this.log.info('crid stopped');
  }
}
