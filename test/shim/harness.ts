// Shared set-up for shim integration tests: a temp state dir, crid's events socket, a ShimManager,
// a busybox rootfs, stdio FIFOs, and checks that nothing is left behind.
import fs from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { RuntimeHandler } from '../../src/config/model.ts';
import { EventServer } from '../../src/events/event-server.ts';
import { ExitMonitor } from '../../src/events/exit-monitor.ts';
import type { TaskEvent } from '../../src/events/task-events.ts';
import { silentLogger } from '../../src/log.ts';
import { mountsUnder } from '../../src/runtime/bundle.ts';
import { createStdioFifos, openFifoReader } from '../../src/runtime/fifo.ts';
import { ShimManager } from '../../src/runtime/shim-manager.ts';
import type { ProcessIO } from '../../src/runtime/task-service.ts';
import { buildBusyboxRootfs } from '../helpers/busybox-rootfs.ts';
import { emptyHandler } from '../../src/config/defaults.ts';

export const PUBLISH_RELAY = path.resolve(import.meta.dirname, 'publish-relay');
export const CGROUP_PARENT = 'crid-shim-test';
const CGROUP_ROOT = '/sys/fs/cgroup';

export function handler(name: string, runtimeType: string, fields: Partial<RuntimeHandler> = {}): RuntimeHandler {
  return { ...emptyHandler(name), runtime_type: runtimeType, ...fields };
}

export interface Output {
  text(): string;
  close(): void;
}

export class ShimHarness {
  readonly dir: string;
  readonly namespace: string;
  readonly rootfs: string;
  readonly monitor = new ExitMonitor(silentLogger);
  /** Events as the shims published them (before the monitor's de-duplication with Wait). */
  readonly shimEvents: TaskEvent[] = [];
  readonly manager: ShimManager;
  private readonly events: EventServer;
  private readonly eventsMonitor = new ExitMonitor(silentLogger);
  private readonly readers: net.Socket[] = [];

  constructor(options: { startTimeoutMs?: number } = {}) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-shim-'));
    this.namespace = `crid-test-${path.basename(this.dir).slice(-6).toLowerCase()}`;
    this.rootfs = buildBusyboxRootfs(path.join(this.dir, 'image'));
    this.events = new EventServer(this.eventsMonitor, silentLogger);
    this.eventsMonitor.subscribe((event) => {
      this.shimEvents.push(event);
      this.monitor.emit(event);
    });
    this.manager = new ShimManager({
      stateDir: path.join(this.dir, 'state'),
      namespace: this.namespace,
      eventsAddress: this.eventsSocket,
      publishBinary: PUBLISH_RELAY,
      monitor: this.monitor,
      log: silentLogger,
      startTimeoutMs: options.startTimeoutMs,
    });
  }

  get eventsSocket(): string {
    return path.join(this.dir, 'events.sock');
  }

  async start(): Promise<void> {
    await this.events.listen(this.eventsSocket);
  }

  cgroupsPath(id: string): string {
    return `/${CGROUP_PARENT}-${this.namespace}/${id}`;
  }

  async stdio(id: string): Promise<{ io: ProcessIO; stdout: Output }> {
    const fifos = createStdioFifos(path.join(this.dir, 'io'), id);
    const reader = openFifoReader(fifos.stdout);
    const chunks: Buffer[] = [];
    reader.on('data', (c: Buffer) => chunks.push(c));
    this.readers.push(
      reader,
      openFifoReader(fifos.stderr).on('data', () => {}),
    );
    return {
      io: { stdin: '', stdout: fifos.stdout, stderr: fifos.stderr, terminal: false },
      stdout: { text: () => Buffer.concat(chunks).toString(), close: () => reader.destroy() },
    };
  }

  /** Removes everything: tasks still known, shim sockets, cgroups, the temp dir. */
  async cleanup(): Promise<void> {
    for (const id of await this.manager.listBundles()) await this.manager.removeTask(id).catch(() => {});
    await this.manager.close();
    await this.events.close();
    for (const r of this.readers) r.destroy();
    for (const pid of processesMentioning(this.namespace)) killQuietly(pid);
    for (const mp of mountsUnder(this.dir)) execFileSync('umount', ['-l', mp]);
    await removeCgroups(`${CGROUP_PARENT}-${this.namespace}`);
    if (!process.env.KEEP_SHIM_TEST_DIR) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Pids of live (non-zombie) processes whose command line names this test's namespace or dir. */
  leftovers(): number[] {
    return [...new Set([...processesMentioning(this.namespace), ...processesMentioning(this.dir)])];
  }
}

export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (!pid || pid === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes(text) && isAlive(pid)) pids.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

/** Kills what is left in the test's cgroup subtrees, then removes them in every hierarchy, leaves first. */
export async function removeCgroups(name: string): Promise<void> {
  for (const controller of fs.readdirSync(CGROUP_ROOT)) {
    const top = path.join(CGROUP_ROOT, controller, name);
    if (!fs.existsSync(top)) continue;
    const dirs: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
      dirs.push(d);
    };
    walk(top);
    for (const d of dirs) {
      for (const pid of fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean))
        killQuietly(Number(pid));
    }
    for (const d of dirs) await rmdirWhenEmpty(d);
  }
}

async function rmdirWhenEmpty(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || attempt === 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
