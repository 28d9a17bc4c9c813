// crid's Prometheus metrics, on a registry of its own (never prom-client's global one). Counters and
// histograms are fed by the code that does the work; gauges of live objects are computed at scrape
// time from callbacks, so they can never drift from the stores.
import { createRequire } from 'node:module';
import type * as Prom from 'prom-client';
import { CRID_VERSION } from '../version.ts';

// prom-client's index also loads its Summary, Pushgateway (https, tls), cluster aggregation and the
// OpenTelemetry API: 40 ms of every start, before crid serves. crid takes the classes it uses from
// their own modules, and the process metrics (collectProcessMetrics) once it is ready.
const require = createRequire(import.meta.url);
const Registry: typeof Prom.Registry = require('prom-client/lib/registry');
const Counter: typeof Prom.Counter = require('prom-client/lib/counter');
const Gauge: typeof Prom.Gauge = require('prom-client/lib/gauge');
const Histogram: typeof Prom.Histogram = require('prom-client/lib/histogram');
type Counter<T extends string> = Prom.Counter<T>;
type Gauge<T extends string = string> = Prom.Gauge<T>;
type Histogram<T extends string> = Prom.Histogram<T>;
type Registry = Prom.Registry;

export const SANDBOX_PHASES = ['image_ensure', 'network_setup', 'shim_start', 'task_create', 'task_start'] as const;
export type SandboxPhase = (typeof SANDBOX_PHASES)[number];

/** How many objects of one handler are in one state (`ready`, `notready`; `running`, `exited`, …). */
export interface ObjectCount {
  handler: string;
  state: string;
  count: number;
}

/** What the handler-check gauge reads of a self-check result. */
export interface HandlerCheck {
  handler: string;
  ok: boolean;
  deep?: { ok: boolean };
}

/** Scrape-time callbacks; each may be set later (setSources) once the daemon has built its stores. */
export interface MetricsSources {
  pods?: () => ObjectCount[];
  containers?: () => ObjectCount[];
  /** Handler → shim processes running for it. */
  shimsRunning?: () => Record<string, number>;
  /** Latest self-check results (HandlerHealth.all). */
  handlerChecks?: () => HandlerCheck[];
}

const GRPC_CODES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** gRPC status code number → its name, as the label shows it. */
export function grpcCodeName(code: number): string {
  return GRPC_CODES[code] ?? String(code);
}

export class CridMetrics {
  readonly registry = new Registry();
  private sources: MetricsSources;
  private readonly requests: Counter<'method' | 'code'>;
  private readonly requestSeconds: Histogram<'method' | 'handler'>;
  private readonly phaseSeconds: Histogram<'handler' | 'phase'>;
  private readonly reloads: Counter<'result'>;
  private readonly lastReloadOk: Gauge;
  private readonly lastReloadTime: Gauge;

  constructor(sources: MetricsSources = {}) {
    this.sources = { ...sources };
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'crid_grpc_requests_total',
      help: 'CRI gRPC requests by method and status code.',
      labelNames: ['method', 'code'],
      registers,
    });
    this.requestSeconds = new Histogram({
      name: 'crid_grpc_request_duration_seconds',
      help: 'CRI gRPC request duration by method and runtime handler ("" when the call has none).',
      labelNames: ['method', 'handler'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.phaseSeconds = new Histogram({
      name: 'crid_sandbox_run_phase_duration_seconds',
      help: `RunPodSandbox duration per runtime handler and phase (${SANDBOX_PHASES.join(', ')}).`,
      labelNames: ['handler', 'phase'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.reloads = new Counter({
      name: 'crid_config_reloads_total',
      help: 'Config reloads by result (success, failure).',
      labelNames: ['result'],
      registers,
    });
    this.reloads.inc({ result: 'success' }, 0);
    this.reloads.inc({ result: 'failure' }, 0);
    this.lastReloadOk = new Gauge({
      name: 'crid_config_last_reload_success',
      help: '1 when the last config reload was applied, 0 when it was rejected.',
      registers,
    });
    this.lastReloadOk.set(1);
    this.lastReloadTime = new Gauge({
      name: 'crid_config_last_reload_success_timestamp_seconds',
      help: 'Unix time of the last applied config (start or reload).',
      registers,
    });
    this.lastReloadTime.setToCurrentTime();
    this.scrapeGauges(registers);
    new Gauge({
      name: 'crid_build_info',
      help: 'Always 1; labels: crid version and Node.js version.',
      labelNames: ['version', 'node'],
      registers,
    }).set({ version: CRID_VERSION, node: process.version }, 1);
  }

  /** Process and Node runtime metrics (CPU, RSS, open fds, event-loop lag, heap, GC pauses), from now on. */
  collectProcessMetrics(): void {
    const collectDefaultMetrics: typeof Prom.collectDefaultMetrics = require('prom-client/lib/defaultMetrics');
    collectDefaultMetrics({ register: this.registry });
  }

  setSources(sources: MetricsSources): void {
    this.sources = { ...this.sources, ...sources };
  }

  /** An RpcObserver: one finished CRI call, its gRPC code number, and its handler when it has one. */
  observeRpc(method: string, code: number, seconds: number, handler = ''): void {
    this.requests.inc({ method, code: grpcCodeName(code) });
    this.requestSeconds.observe({ method, handler }, seconds);
  }

  observeSandboxPhase(handler: string, phase: SandboxPhase, seconds: number): void {
    this.phaseSeconds.observe({ handler, phase }, seconds);
  }

  /** Runs one RunPodSandbox phase and records its duration, whether it succeeds or fails. */
  async timeSandboxPhase<T>(handler: string, phase: SandboxPhase, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.observeSandboxPhase(handler, phase, (performance.now() - started) / 1000);
    }
  }

  configReloaded(ok: boolean): void {
    this.reloads.inc({ result: ok ? 'success' : 'failure' });
    this.lastReloadOk.set(ok ? 1 : 0);
    if (ok) this.lastReloadTime.setToCurrentTime();
  }

  /** The exposition text of every crid metric. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private scrapeGauges(registers: Registry[]): void {
    const sources = () => this.sources;
    const counted = (name: string, help: string, read: () => ObjectCount[] | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ['handler', 'state'],
        registers,
        collect() {
          this.reset();
          for (const c of read() ?? []) this.inc({ handler: c.handler, state: c.state }, c.count);
        },
      });
    counted('crid_pods', 'Pod sandboxes by runtime handler and state.', () => sources().pods?.());
    counted('crid_containers', 'Containers by runtime handler and state.', () => sources().containers?.());
    new Gauge({
      name: 'crid_shims_running',
      help: 'Shim processes running, by runtime handler.',
      labelNames: ['handler'],
      registers,
      collect() {
        this.reset();
        for (const [handler, count] of Object.entries(sources().shimsRunning?.() ?? {})) this.set({ handler }, count);
      },
    });
    new Gauge({
      name: 'crid_handler_check_ok',
      help: '1 when the handler passed its last self-check (shallow and, when run, deep), else 0.',
      labelNames: ['handler'],
      registers,
      collect() {
        this.reset();
        for (const r of sources().handlerChecks?.() ?? [])
          this.set({ handler: r.handler }, r.ok && r.deep?.ok !== false ? 1 : 0);
      },
    });
  }
}
