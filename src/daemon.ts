// Wiring and ordered start/stop of the daemon: config → stores → events → recovery → gRPC server,
// then the operational endpoints (metrics, control socket, handler checks, live reload).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CridConfig } from './config/model.ts';
import { ConfigHolder } from './config/reload.ts';
import type { Logger } from './log.ts';
import { CriServer } from './server/grpc-server.ts';
import type { RpcTable } from './server/rpc.ts';
import type { ServingStage } from './server/instrument.ts';
import { runtimeServiceRpcs } from './cri/runtime/index.ts';
import { imageServiceRpcs } from './cri/image/index.ts';
import { withCheckedValues } from './cri/request-values.ts';
import { ImageService } from './image/image-service.ts';
import { ExitMonitor } from './events/exit-monitor.ts';
import { EventServer } from './events/event-server.ts';
import { ShimManager } from './runtime/shim-manager.ts';
import { networkStatus } from './network/pod-network.ts';
import { readHostFacts } from './oci/host.ts';
import { ObjectStore } from './store/object-store.ts';
import { NameRegistrar } from './store/name-registrar.ts';
import { isSandboxRecord, type SandboxRecord } from './store/sandbox.ts';
import { isContainerRecord, type ContainerRecord } from './store/container.ts';
import { KeyedMutex } from './util/keyed-mutex.ts';
import { ContainerEvents } from './events/container-feed.ts';
import type { PodDeps } from './pod/deps.ts';
import { CdiRegistry } from './cdi/cdi-registry.ts';
import { watchTaskExits } from './pod/events/task-exits.ts';
import { closeContainerLogs } from './pod/container/io.ts';
import { loadRecords, recoverState } from './pod/recovery.ts';
import { measurePods, runPauseSandbox } from './pod/sandbox/probe.ts';
import { HandlerHealth } from './handler-health/health.ts';
import { measureHandlers } from './handler-health/overhead.ts';
import { CridMetrics } from './metrics/metrics.ts';
import { startMetricsServer, type MetricsServer } from './metrics/metrics-server.ts';
import { controlSocketPath, startControlServer, type ControlServer } from './control/control-server.ts';
import { objectCounts, handlerOfRequest, shimsPerHandler } from './pod/observe.ts';
import { StreamingServer } from './streaming/server.ts';
import { containerStreaming } from './pod/container/exec.ts';
import { portForwardIntoPod } from './pod/sandbox/port-forward.ts';
import { parseGoDuration } from './util/go-duration.ts';
import { MemoryRelease } from './util/memory-release.ts';

/** `crid publish` is run by legacy shims for each event: this wrapper runs crid with its own Node. */
const CRID_EXECUTABLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../scripts/crid');

export interface DaemonOptions {
  config: CridConfig;
  /** The main config file, re-read on reload. */
  configPath: string;
  /** The config file set metrics_address itself (a non-loopback address is then allowed). */
  metricsAddressExplicit: boolean;
  /** Applied to every (re)loaded config: command-line overrides such as --socket. */
  adjust: (config: CridConfig) => void;
  log: Logger;
}

export class Daemon {
  private readonly opts: DaemonOptions;
  private readonly log: Logger;
  private readonly metrics = new CridMetrics();
  private readonly health: HandlerHealth;
  private readonly memory: MemoryRelease;
  private readonly holder: ConfigHolder;
  private deps: PodDeps | undefined;
  private server: CriServer | undefined;
  private events: EventServer | undefined;
  private shims: ShimManager | undefined;
  private metricsServer: MetricsServer | undefined;
  private control: ControlServer | undefined;
  private streaming: StreamingServer | undefined;
  private stopWatchingExits: (() => void) | undefined;
  private stage: ServingStage = 'starting';
  private readonly podCidr = { podCidr: '' };

  constructor(opts: DaemonOptions) {
    this.opts = opts;
    this.log = opts.log;
    this.memory = new MemoryRelease(this.log);
    this.health = new HandlerHealth({
      log: this.log,
      runPauseSandbox: (handler, signal) => runPauseSandbox(this.requireDeps(), handler, signal),
    });
    this.holder = new ConfigHolder({
      path: opts.configPath,
      config: opts.config,
      log: this.log,
      recheck: (config) => this.health.check(config),
      onReloaded: (ok) => this.metrics.configReloaded(ok),
      adjust: opts.adjust,
    });
  }

  private config(): CridConfig {
    return this.holder.current();
  }

  private requireDeps(): PodDeps {
    if (!this.deps) throw new Error('crid is not started');
    return this.deps;
  }

  private eventsSocket(): string {
    return path.join(this.config().crid.state, 'events.sock');
  }

  private async buildDeps(): Promise<PodDeps> {
    const cfg = this.config();
    const monitor = new ExitMonitor(this.log);
    const images = await ImageService.open({
      root: cfg.crid.root,
      registryConfigPath: cfg.registry_config_path,
      inlineRegistry: { mirrors: cfg.registry_mirrors, configs: cfg.registry_configs },
      log: this.log,
      concurrency: cfg.max_concurrent_downloads,
      progressTimeoutMs: parseGoDuration(cfg.image_pull_progress_timeout, 'image_pull_progress_timeout'),
      proxyEnv: process.env,
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
      config: () => this.config(),
      sandboxes: new ObjectStore<SandboxRecord>(
        'pod sandbox',
        path.join(cfg.crid.root, 'store', 'sandboxes'),
        isSandboxRecord,
      ),
      containers: new ObjectStore<ContainerRecord>(
        'container',
        path.join(cfg.crid.root, 'store', 'containers'),
        isContainerRecord,
      ),
      names: new NameRegistrar(),
      images,
      shims: this.shims,
      monitor,
      events: new ContainerEvents(),
      locks: new KeyedMutex(),
      logWriters: new Map(),
      host: await readHostFacts(),
      cdi: new CdiRegistry(this.log),
      handlerFailure: (handler) => this.health.failed(handler),
      timePhase: (handler, phase, work) => this.metrics.timeSandboxPhase(handler, phase, work),
      released: () => this.memory.released(),
      log: this.log,
    };
  }

  private runtimeRpcs(deps: PodDeps): RpcTable {
    const cni = () => this.config().cni;
    return runtimeServiceRpcs({
      pod: deps,
      status: {
        config: () => this.config(),
        networkStatus: () => networkStatus(cni().conf_dir, cni().bin_dirs, cni().max_conf_num),
        handlerChecks: () => this.health.all(),
        handlerFailure: (handler) => this.health.failed(handler),
        host: deps.host,
      },
      podCidr: this.podCidr,
      streaming: this.streaming!,
      log: this.log,
    });
  }

  async start(): Promise<void> {
    const cfg = this.config();
    await fs.promises.mkdir(cfg.crid.state, { recursive: true, mode: 0o711 });
    await fs.promises.mkdir(cfg.crid.root, { recursive: true, mode: 0o711 });
    const deps = await this.buildDeps();
    this.deps = deps;
    this.streaming = new StreamingServer(
      {
        ...containerStreaming(deps),
        portForward: (podId, port, stream, signal) => portForwardIntoPod(deps, podId, port, stream, signal),
      },
      {
        address: cfg.stream_server_address || '127.0.0.1',
        port: Number(cfg.stream_server_port || '0'),
        streamIdleTimeoutMs: parseGoDuration(cfg.stream_idle_timeout, 'stream_idle_timeout'),
        ...(cfg.enable_tls_streaming && {
          tls: {
            cert: await fs.promises.readFile(cfg.stream_tls_cert_file),
            key: await fs.promises.readFile(cfg.stream_tls_key_file),
          },
        }),
        logger: this.log,
      },
    );
    this.server = new CriServer(
      cfg.crid.socket,
      {
        runtime: this.runtimeRpcs(deps),
        image: imageServiceRpcs({ images: deps.images, released: deps.released, log: this.log }),
        wrap: withCheckedValues,
      },
      {
        log: this.log,
        stage: () => this.stage,
        observe: (rpc, code, seconds, handler) => this.metrics.observeRpc(rpc, code, seconds, handler),
        handlerOf: (rpc, request) => handlerOfRequest(deps, rpc, request),
      },
    );
    // Claim the CRI socket first: a second crid must stop before it touches the first one's shims.
    await this.server.start();
    await this.streaming.start();
    this.events = new EventServer(deps.monitor, this.log);
    await fs.promises.rm(this.eventsSocket(), { force: true });
    await this.events.listen(this.eventsSocket());
    this.stopWatchingExits = watchTaskExits(deps);
    this.log.info({ socket: cfg.crid.socket }, 'crid is serving CRI');
    // The shallow handler checks only run binaries: they overlap recovery. A deep check starts a pod,
    // which recovery's orphan sweep must not see half-made, so it waits for recovery.
    await Promise.all([this.recover(deps), this.health.check(cfg)]);
    if (cfg.crid.deep_check_on_start) await this.health.check(cfg, { deep: true });
    this.stage = 'ready';
    await this.startOperations(deps);
    this.log.info('state recovered; crid is ready');
  }

  private async recover(deps: PodDeps): Promise<void> {
    await loadRecords(deps);
    this.stage = 'records';
    await recoverState(deps);
  }

  private async startOperations(deps: PodDeps): Promise<void> {
    const cfg = this.config();
    this.metrics.setSources({
      pods: () => objectCounts(deps).pods,
      containers: () => objectCounts(deps).containers,
      shimsRunning: () => shimsPerHandler(deps),
      handlerChecks: () => this.health.all(),
    });
    this.metricsServer = await startMetricsServer({
      address: cfg.crid.metrics_address,
      explicit: this.opts.metricsAddressExplicit,
      metrics: this.metrics,
      log: this.log,
    });
    // Only a served registry needs them: they watch every GC and the event loop.
    if (this.metricsServer) this.metrics.collectProcessMetrics();
    this.control = await startControlServer(
      controlSocketPath(cfg.crid.state),
      {
        reload: () => this.holder.reload(),
        check: (handler, deep) => this.health.check(this.config(), { only: handler, deep }),
        health: () => this.health.all(),
        measure: (handler, pods) =>
          measureHandlers(this.health, (name, n) => measurePods(deps, name, n), handler, pods),
        importImages: async (archive) =>
          (await deps.images.importArchive(archive)).map(({ id, repoTags }) => ({ id, repoTags })),
      },
      this.log,
    );
    this.holder.watchRuntimesDir();
  }

  reload() {
    return this.holder.reload();
  }

  /** One line for systemd's STATUS=: the socket, pods and containers, each handler's check. */
  statusLine(): string {
    const total = (rows: { count: number }[]) => rows.reduce((n, r) => n + r.count, 0);
    const counts = this.deps ? objectCounts(this.deps) : { pods: [], containers: [] };
    const handlers = this.health.all().map((r) => `${r.handler} ${r.ok ? 'ok' : 'failed'}`);
    return `serving CRI on ${this.config().crid.socket}: ${total(counts.pods)} pods, ${total(counts.containers)} containers; handlers: ${handlers.join(', ')}`;
  }

  async stop(): Promise<void> {
    this.stage = 'starting';
    this.holder.close();
    await this.control?.close();
    await this.metricsServer?.close();
    await this.server?.stop();
    await this.streaming?.stop();
    this.stopWatchingExits?.();
    this.memory.stop();
    // Running containers keep their FIFOs in their shims; crid lets go of its ends so it can exit.
    if (this.deps) closeContainerLogs(this.deps);
    // The shims keep running: a restarted crid reconnects to them.
    await this.shims?.close();
    await this.events?.close();
    this.log.info('crid stopped');
  }
}
