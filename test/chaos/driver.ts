// The chaos driver: kubelet-shaped loops (run a pod with a container on every handler, relist, exec,
// port-forward, stop, remove) while crid is killed with -9 at random moments, CRI clients go away
// mid-call (cancelled, or their process killed), and shims or pause processes are killed. Every
// random choice comes from one seeded generator, so a seed names a run.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadCri } from '../helpers/cri-client.ts';
import type { Call } from '../helpers/cri-client.ts';
import { podConfig, type PodEnv } from '../helpers/pod-env.ts';
import { REPO, type CridProcess } from '../helpers/crid-process.ts';
import { dialSpdy, dialWebSocket, openCommandStreams, readAll } from '../streaming/clients.ts';

export const HANDLERS = ['runc', 'crun', 'runc-v1', 'kata'] as const;
const CALL_TIMEOUT_MS = 30_000;
const WEB_PORT = 8080;
const DEAD_PORT = 9999;

/** mulberry32: small, fast, and the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ChaosOptions {
  env: PodEnv;
  seed: number;
  durationMs: number;
  /** Kubelet loops running at once. */
  workers: number;
  /** Mean pause between chaos actions (clients, shims, pause processes). */
  chaosEveryMs: number;
  /** Mean pause between kill -9s of crid (long in a soak, so one crid lives long enough to show its RSS). */
  killCridEveryMs: number;
  log: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  lifecycles: { started: number; completed: number };
  /** Chaos actions taken, by kind. */
  actions: Record<string, number>;
  /** Failed operations by `op: gRPC code / first words of the message` (expected under chaos). */
  failures: Record<string, number>;
  /** crid exits nobody asked for, and starts that failed, with the end of crid's stderr: each one is a bug. */
  crashes: string[];
  /** false when crid could not be started again: the run stopped there. */
  serving: boolean;
  /**
   * Pause, container and shim processes seen, by pid, with their start time (a pid the kernel has
   * since given to another process is not theirs): all must be gone at the end.
   */
  pids: Map<number, string>;
  /** Pod ids seen (their v2 shim sockets must be gone at the end). */
  podIds: Set<string>;
}

/** A process's start time (field 22 of /proc/<pid>/stat), or undefined once it is gone. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Fails after `ms`: bounds the streaming steps, which have no deadline of their own. */
function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

class Chaos {
  private readonly opts: ChaosOptions;
  private readonly env: PodEnv;
  private readonly random: () => number;
  readonly report: ChaosReport;
  /** Set while the driver itself restarts crid, so the exit watcher knows the exit was asked for. */
  private restarting = false;
  /** Restarts happen one at a time (the monkey's and the exit watcher's may coincide). */
  private restarts: Promise<void> = Promise.resolve();
  /** Once the run is over, crid's exits are the caller's business. */
  private finished = false;
  private serial = 0;

  constructor(opts: ChaosOptions) {
    this.opts = opts;
    this.env = opts.env;
    this.random = seededRandom(opts.seed);
    this.report = {
      seed: opts.seed,
      lifecycles: { started: 0, completed: 0 },
      actions: {},
      failures: {},
      crashes: [],
      serving: true,
      pids: new Map(),
      podIds: new Set(),
    };
  }

  async run(): Promise<ChaosReport> {
    this.watch(this.env.crid);
    const until = Date.now() + this.opts.durationMs;
    const workers = Array.from({ length: this.opts.workers }, (_, w) => this.worker(w, until));
    await Promise.all([...workers, this.monkey(until), this.cridKiller(until)]);
    this.finished = true;
    return this.report;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  private count(map: Record<string, number>, key: string): void {
    map[key] = (map[key] ?? 0) + 1;
  }

  private failure(op: string, err: unknown): void {
    const e = err as { code?: number; details?: string; message?: string };
    const text = (e.details ?? e.message ?? String(err))
      .replace(/[0-9a-f]{64}/g, '<id>')
      .replace(/\d+/g, 'N')
      .slice(0, 90);
    this.count(this.report.failures, `${op}: ${e.code ?? '-'} ${text}`);
  }

  /** Records crid exits the driver did not cause, and brings crid back so the run goes on. */
  private watch(crid: CridProcess): void {
    void crid.exited.then(async (code) => {
      if (this.restarting || this.finished || this.env.crid !== crid) return;
      const tail = crid.stderr().split('\n').filter(Boolean).slice(-12).join('\n');
      this.report.crashes.push(`crid exited by itself with ${code}:\n${tail}`);
      this.opts.log(`chaos: crid exited by itself with ${code}`);
      await this.restart('SIGKILL');
    });
  }

  private restart(signal: NodeJS.Signals): Promise<void> {
    const next = this.restarts.then(async () => {
      this.restarting = true;
      try {
        await this.env.restart(signal);
      } catch (err) {
        this.report.crashes.push(`crid failed to start: ${(err as Error).message.split('\n').slice(-3).join('\n')}`);
        this.report.serving = false;
        this.opts.log('chaos: crid failed to start; the run ends here');
        return;
      } finally {
        this.restarting = false;
      }
      this.watch(this.env.crid);
    });
    this.restarts = next.catch(() => {});
    return next;
  }

  private async worker(w: number, until: number): Promise<void> {
    let i = 0;
    while (Date.now() < until && this.report.serving) {
      this.report.lifecycles.started++;
      const done = await this.lifecycle(`chaos-${w}-${i++}`, this.pick(HANDLERS)).catch(() => false);
      if (done) this.report.lifecycles.completed++;
      // like kubelet's relist and garbage collection: whatever a failed lifecycle left is removed
      if (!done) await this.collectGarbage(`chaos-${w}-`);
    }
  }

  /** `Res`: the fields of the response the caller reads. */
  private call<Res = unknown>(rpc: string, request: object, service: 'runtime' | 'image' = 'runtime'): Promise<Res> {
    return (this.env.client[service][rpc] as Call<object, Res>)(request, CALL_TIMEOUT_MS).catch(
      async (err: unknown) => {
        this.failure(rpc, err);
        await sleep(100 + this.random() * 200);
        throw err;
      },
    );
  }

  /** One pod as kubelet drives it; false when a step failed (the failure is counted). */
  private async lifecycle(name: string, handler: string): Promise<boolean> {
    await this.ensureImage(this.env.busyboxImage);
    const logDir = path.join(this.env.dir, 'logs', name);
    fs.mkdirSync(logDir, { recursive: true });
    const config = podConfig(name, { log_directory: logDir });
    const { pod_sandbox_id: pod } = await this.call<{ pod_sandbox_id: string }>('RunPodSandbox', {
      config,
      runtime_handler: handler,
    });
    this.report.podIds.add(pod);
    await this.notePodPids(pod);
    const container = await this.startWebContainer(pod, config);
    await this.call('ListPodSandbox', {});
    await this.call('ListContainers', { filter: { pod_sandbox_id: pod } });
    await this.call('ContainerStatus', { container_id: container });
    const streams = [
      () => this.execSync(container),
      () => this.execStream(container),
      () => this.execWebSocket(container),
      () => this.portForward(pod),
    ];
    for (let k = 0; k < 2; k++) await this.pick(streams)();
    if (this.random() < 0.5) await this.call('StopContainer', { container_id: container, timeout: 1 });
    await this.call('StopPodSandbox', { pod_sandbox_id: pod });
    await this.call('RemovePodSandbox', { pod_sandbox_id: pod });
    return true;
  }

  /** kubelet's image step: ImageStatus, and PullImage when the image is missing. */
  private async ensureImage(image: string): Promise<void> {
    const { image: present } = await this.call<{ image: object | null }>('ImageStatus', { image: { image } }, 'image');
    if (!present) await this.call('PullImage', { image: { image } }, 'image');
  }

  private async notePodPids(pod: string): Promise<void> {
    const { info } = await this.call<{ info: Record<string, string> }>('PodSandboxStatus', {
      pod_sandbox_id: pod,
      verbose: true,
    });
    const { pid, shimPid } = JSON.parse(info.info) as { pid?: number; shimPid?: number };
    for (const p of [pid, shimPid]) if (typeof p === 'number' && p > 0) this.noteProcess(p);
  }

  private noteProcess(pid: number): void {
    const started = processStart(pid);
    if (started) this.report.pids.set(pid, started);
  }

  private async startWebContainer(pod: string, sandboxConfig: object): Promise<string> {
    const config = {
      metadata: { name: 'web', attempt: 0 },
      image: { image: this.env.busyboxImage },
      command: [
        '/bin/sh',
        '-c',
        `mkdir -p /www && echo chaos > /www/index.html && exec httpd -f -p 127.0.0.1:${WEB_PORT} -h /www`,
      ],
      log_path: 'web/0.log',
      linux: {},
    };
    const { container_id: id } = await this.call<{ container_id: string }>('CreateContainer', {
      pod_sandbox_id: pod,
      config,
      sandbox_config: sandboxConfig,
    });
    await this.call('StartContainer', { container_id: id });
    const { info } = await this.call<{ info: Record<string, string> }>('ContainerStatus', {
      container_id: id,
      verbose: true,
    });
    const pid = (JSON.parse(info.info ?? '{}') as { pid?: number }).pid;
    if (typeof pid === 'number' && pid > 0) this.noteProcess(pid);
    return id;
  }

  private async execSync(container: string): Promise<void> {
    await this.call('ExecSync', { container_id: container, cmd: ['/bin/sh', '-c', 'echo chaos'], timeout: 10 });
  }

  /** An SPDY exec whose client goes away at a random phase: before, during or after the output. */
  private async execStream(container: string): Promise<void> {
    const { url } = await this.call<{ url: string }>('Exec', {
      container_id: container,
      cmd: ['/bin/sh', '-c', 'echo started; sleep 2; echo done'],
      stdout: true,
      stderr: true,
    });
    try {
      const session = await within(10_000, 'exec dial', dialSpdy(url, ['v4.channel.k8s.io']));
      const phase = this.pick(['after-dial', 'mid-output', 'to-the-end']);
      if (phase === 'after-dial') return session.close();
      const { stdout } = await within(10_000, 'exec streams', openCommandStreams(session, { stderr: true }));
      if (phase === 'mid-output') {
        await within(
          10_000,
          'exec output',
          new Promise((resolve) => stdout.once('data', resolve).once('close', resolve)),
        );
        return session.close();
      }
      await within(10_000, 'exec end', readAll(stdout));
      session.close();
    } catch (err) {
      this.failure('exec-stream', err);
    }
  }

  private async execWebSocket(container: string): Promise<void> {
    const { url } = await this.call<{ url: string }>('Exec', {
      container_id: container,
      cmd: ['/bin/sh', '-c', 'echo ws; sleep 1'],
      stdout: true,
    });
    try {
      const session = await within(10_000, 'ws dial', dialWebSocket(url, ['v5.channel.k8s.io', 'v4.channel.k8s.io']));
      if (this.random() < 0.5) session.ws.terminate();
      else await within(10_000, 'ws end', session.closed);
    } catch (err) {
      this.failure('exec-ws', err);
    }
  }

  /** SPDY port-forward to the web server or to a port nothing listens on; the client may vanish mid-way. */
  private async portForward(pod: string): Promise<void> {
    const port = this.pick([WEB_PORT, DEAD_PORT]);
    const { url } = await this.call<{ url: string }>('PortForward', { pod_sandbox_id: pod, port: [port] });
    try {
      const session = await within(10_000, 'port-forward dial', dialSpdy(url, ['portforward.k8s.io']));
      const error = await within(
        10_000,
        'port-forward error stream',
        session.open({ streamtype: 'error', port: String(port), requestid: '0' }),
      );
      const data = await within(
        10_000,
        'port-forward data stream',
        session.open({ streamtype: 'data', port: String(port), requestid: '0' }),
      );
      data.on('error', () => {});
      error.on('error', () => {});
      data.write('GET /index.html HTTP/1.0\r\n\r\n');
      if (this.random() < 0.5) return session.close();
      data.end();
      await within(10_000, 'port-forward reply', readAll(data));
      session.close();
    } catch (err) {
      this.failure('port-forward', err);
    }
  }

  /** Stops and removes this worker's pods that a failed lifecycle left behind. */
  private async collectGarbage(prefix: string): Promise<void> {
    try {
      const { items } = await this.call<{ items: Array<{ id: string; metadata: { name: string } }> }>(
        'ListPodSandbox',
        {},
      );
      for (const pod of items) {
        if (!pod.metadata.name.startsWith(prefix)) continue;
        await this.call('StopPodSandbox', { pod_sandbox_id: pod.id });
        await this.call('RemovePodSandbox', { pod_sandbox_id: pod.id });
      }
    } catch {
      // counted; the next lifecycle's garbage collection or the final cleanup takes it
    }
  }

  private async monkey(until: number): Promise<void> {
    const actions: Array<[string, number, () => Promise<void>]> = [
      ['cancel a call', 3, () => this.cancelCall()],
      ['kill a client process', 1, () => this.killClientProcess()],
      ['kill a shim', 2, () => this.killPodProcess('shimPid')],
      ['kill a pause process', 2, () => this.killPodProcess('pid')],
    ];
    const total = actions.reduce((sum, [, weight]) => sum + weight, 0);
    while (Date.now() < until && this.report.serving) {
      await sleep(this.opts.chaosEveryMs * (0.5 + this.random()));
      if (Date.now() >= until || !this.report.serving) break;
      let roll = this.random() * total;
      const [kind, , act] =
        actions.find(([, weight]) => {
          roll -= weight;
          return roll < 0;
        }) ?? actions[0]!;
      this.count(this.report.actions, kind);
      this.opts.log(`chaos: ${kind}`);
      await act().catch((err: unknown) => this.failure(kind, err));
    }
  }

  private async cridKiller(until: number): Promise<void> {
    for (;;) {
      await sleep(Math.min(this.opts.killCridEveryMs * (0.5 + this.random()), Math.max(0, until - Date.now())));
      if (Date.now() >= until || !this.report.serving) return;
      this.count(this.report.actions, 'kill -9 crid');
      this.opts.log('chaos: kill -9 crid');
      await this.restart('SIGKILL');
    }
  }

  /** A client that cancels its call after a random moment, as kubelet does when a context ends. */
  private async cancelCall(): Promise<void> {
    const pkg = grpc.loadPackageDefinition(loadCri()) as unknown as {
      runtime: { v1: { RuntimeService: grpc.ServiceClientConstructor } };
    };
    const client = new pkg.runtime.v1.RuntimeService(`unix://${this.env.socket}`, grpc.credentials.createInsecure());
    const name = `chaos-cancel-${this.serial++}`;
    const [rpc, request] = this.pick([
      ['RunPodSandbox', { config: podConfig(name), runtime_handler: this.pick(HANDLERS) }],
      ['ListContainers', {}],
      ['ListPodSandbox', {}],
      ['Status', { verbose: true }],
    ] as const);
    const call = (client[rpc] as (req: object, cb: (err: unknown) => void) => grpc.ClientUnaryCall).call(
      client,
      request,
      () => {},
    );
    await sleep(this.random() * 300);
    call.cancel();
    client.close();
  }

  /** A CRI client process SIGKILLed mid-call: its connection goes away without a goodbye. */
  private async killClientProcess(): Promise<void> {
    const name = `chaos-killed-${this.serial++}`;
    const script = `import { criClient } from ${JSON.stringify(path.join(REPO, 'test/helpers/cri-client.ts'))};
const c = criClient(${JSON.stringify(this.env.socket)});
c.runtime.RunPodSandbox({ config: ${JSON.stringify(podConfig(name))}, runtime_handler: ${JSON.stringify(this.pick(HANDLERS))} }).catch(() => {});
c.runtime.ListContainers({}).catch(() => {});
setTimeout(() => {}, 60000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    await sleep(300 + this.random() * 700);
    child.kill('SIGKILL');
    await exited;
  }

  private async killPodProcess(which: 'pid' | 'shimPid'): Promise<void> {
    const { items } = await this.env.client.runtime.ListPodSandbox(
      { filter: { state: { state: 'SANDBOX_READY' } } },
      CALL_TIMEOUT_MS,
    );
    if (items.length === 0) return;
    const pod = this.pick(items as Array<{ id: string }>);
    const { info } = await this.env.client.runtime.PodSandboxStatus(
      { pod_sandbox_id: pod.id, verbose: true },
      CALL_TIMEOUT_MS,
    );
    const pid = (JSON.parse(info.info) as Record<string, number | undefined>)[which];
    if (typeof pid !== 'number' || pid <= 0 || pid === this.env.crid.child.pid)
      throw new Error(`PodSandboxStatus verbose gave ${which} ${pid}`);
    process.kill(pid, 'SIGKILL');
  }
}

export function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  return new Chaos(opts).run();
}
