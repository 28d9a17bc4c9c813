// A fake shim v2 (stand-in for containerd-shim-kata-v2): speaks the real `start`/`delete` protocol
// and containerd.task.v2.Task over crid's ttrpc code, runs the bundle's process with chroot as its
// "VM", publishes events to TTRPC_ADDRESS, and misbehaves when config.json asks it to with the
// annotation `fake-shim/mode`: garbage | hang | exit-early | create-error | json (bootstrap JSON).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { failedPrecondition, notFound } from '../../src/errors.ts';
import { silentLogger } from '../../src/log.ts';
import { TtrpcClient } from '../../src/ttrpc/client.ts';
import { decodeMessage, encodeMessage, nowTimestamp, type Message, type Timestamp } from '../../src/ttrpc/codec.ts';
import type { Mount } from '../../src/runtime/task-service.ts';
import { TtrpcServer } from '../../src/ttrpc/server.ts';

const MODE_ANNOTATION = 'fake-shim/mode';

/** The fields of the task requests served here, as decoded; each request has some of them. */
interface TaskRequest {
  id: string;
  bundle: string;
  rootfs: Mount[];
  stdout: string;
  signal: number;
  now: boolean;
}

/** The part of the bundle's config.json the fake reads. */
interface Spec {
  root: { path: string };
  process: { args: string[]; env: string[] };
  annotations?: Record<string, string>;
}
const TASK = 'containerd.task.v2';

function flags(argv: string[]): { values: Record<string, string>; action: string } {
  const values: Record<string, string> = {};
  let action = '';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('-')) values[arg.replace(/^-+/, '')] = argv[++i] ?? '';
    else action = arg;
  }
  return { values, action };
}

/** Mounts the task's rootfs on <bundle>/rootfs as a real shim does (bind or overlay, in order). */
function mountRootfs(bundle: string, mounts: Mount[]): void {
  const target = path.join(bundle, 'rootfs');
  for (const m of mounts) {
    const args = m.type === 'bind' ? ['--bind', m.source, target] : ['-t', m.type, m.source, target];
    const options = m.options.filter((o) => o !== 'rbind' && o !== 'bind');
    if (options.length) args.push('-o', options.join(','));
    execFileSync('mount', args);
  }
}

function unmountRootfs(bundle: string): void {
  const target = path.join(bundle, 'rootfs');
  const mounted = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === target);
  if (mounted) execFileSync('umount', [target]);
}

function readSpec(bundle: string): Spec {
  return JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function accepts(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.createConnection(socket);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

async function start(values: Record<string, string>): Promise<void> {
  await readStdin();
  const bundle = process.cwd();
  const annotations = readSpec(bundle).annotations ?? {};
  const mode = annotations[MODE_ANNOTATION] ?? '';
  if (mode === 'garbage') {
    process.stderr.write('fakekata: the hypervisor refused to boot\n');
    process.stdout.write(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x0a]));
    return;
  }
  if (mode === 'hang') {
    setInterval(() => {}, 1000);
    return;
  }
  const group = annotations['io.kubernetes.cri.sandbox-id'] ?? values.id!;
  const hash = createHash('sha256').update(`${values.address}/${values.namespace}/${group}`).digest('hex').slice(0, 24);
  const dir = path.resolve(bundle, '../../../fakeshim');
  fs.mkdirSync(dir, { recursive: true });
  const socket = path.join(dir, `${hash}.sock`);
  if (!(await accepts(socket))) {
    const server = spawn(
      process.execPath,
      [
        import.meta.filename,
        '-namespace',
        values.namespace!,
        '-id',
        values.id!,
        '-socket',
        socket,
        '-mode',
        mode,
        'serve',
      ],
      {
        cwd: bundle,
        detached: true,
        stdio: ['ignore', 'ignore', fs.openSync(`${socket}.log`, 'a')],
      },
    );
    server.unref();
    fs.writeFileSync(path.join(bundle, 'shim.pid'), String(server.pid));
    for (let i = 0; i < 100 && !(await accepts(socket)); i++) await new Promise((r) => setTimeout(r, 50));
    if (mode === 'exit-early') {
      process.kill(server.pid!, 'SIGKILL');
      while (await accepts(socket)) await new Promise((r) => setTimeout(r, 20));
    }
  }
  const address = `unix://${socket}`;
  fs.writeFileSync(path.join(bundle, 'address'), address);
  process.stdout.write(mode === 'json' ? JSON.stringify({ version: 2, address, protocol: 'ttrpc' }) : address);
}

interface Proc {
  child: ChildProcess;
  bundle: string;
  exitStatus?: number;
  exitedAt?: Timestamp;
  exited: Promise<void>;
}

class FakeTaskService {
  private readonly procs = new Map<string, Proc>();
  private readonly pending = new Map<string, TaskRequest>();
  private events: Promise<TtrpcClient> | undefined;
  private readonly namespace: string;
  private readonly mode: string;
  readonly server = new TtrpcServer(silentLogger);

  constructor(namespace: string, mode: string) {
    this.namespace = namespace;
    this.mode = mode;
    const handlers: Record<string, [string, string, (r: TaskRequest) => Promise<Message>]> = {
      Connect: [
        'ConnectRequest',
        'ConnectResponse',
        async (r) => ({ shim_pid: process.pid, task_pid: this.procs.get(r.id)?.child.pid ?? 0 }),
      ],
      Create: ['CreateTaskRequest', 'CreateTaskResponse', (r) => this.create(r)],
      Start: ['StartRequest', 'StartResponse', (r) => this.start(r)],
      State: ['StateRequest', 'StateResponse', async (r) => this.state(r.id)],
      Kill: ['KillRequest', 'google.protobuf.Empty', async (r) => this.kill(r)],
      Wait: ['WaitRequest', 'WaitResponse', (r) => this.wait(r.id)],
      Delete: ['DeleteRequest', 'DeleteResponse', (r) => this.delete(r.id)],
      Pids: ['PidsRequest', 'PidsResponse', async (r) => ({ processes: [{ pid: this.proc(r.id).child.pid }] })],
      Shutdown: ['ShutdownRequest', 'google.protobuf.Empty', async (r) => this.shutdown(r)],
    };
    for (const [method, [req, res, fn]] of Object.entries(handlers)) {
      const resType = res.startsWith('google.') ? res : `${TASK}.${res}`;
      this.server.register(`${TASK}.Task`, method, async (payload) =>
        encodeMessage(resType, await fn(decodeMessage<TaskRequest>(`${TASK}.${req}`, payload))),
      );
    }
  }

  private proc(id: string): Proc {
    const p = this.procs.get(id);
    if (!p) throw notFound(`container ${id} not created: not found`);
    return p;
  }

  private async publish(topic: string, type: string, event: Message): Promise<void> {
    const address = process.env.TTRPC_ADDRESS;
    if (!address) return;
    this.events ??= TtrpcClient.connect(address);
    const client = await this.events;
    const envelope = {
      timestamp: nowTimestamp(),
      namespace: this.namespace,
      topic,
      event: { type_url: type, value: encodeMessage(type, event) },
    };
    await client.call(
      'containerd.services.events.ttrpc.v1.Events',
      'Forward',
      encodeMessage('containerd.services.events.ttrpc.v1.ForwardRequest', { envelope }),
      {
        timeoutMs: 5000,
        metadata: { 'containerd-namespace-ttrpc': this.namespace },
      },
    );
  }

  private async create(r: TaskRequest): Promise<Message> {
    if (this.mode === 'create-error') throw failedPrecondition('fake kata: the VM failed to boot');
    this.pending.set(r.id, r);
    mountRootfs(r.bundle, r.rootfs);
    await this.publish('/tasks/create', 'containerd.events.TaskCreate', {
      container_id: r.id,
      bundle: r.bundle,
      pid: process.pid,
    });
    return { pid: process.pid };
  }

  private async start(r: TaskRequest): Promise<Message> {
    const req = this.pending.get(r.id);
    if (!req) throw notFound(`container ${r.id} not created: not found`);
    const spec = readSpec(req.bundle);
    const root = path.resolve(req.bundle, spec.root.path);
    const out = req.stdout ? fs.openSync(req.stdout, 'w') : 'ignore';
    const child = spawn('/usr/sbin/chroot', [root, ...spec.process.args], {
      env: Object.fromEntries(spec.process.env.map((e: string) => e.split('=', 2))),
      stdio: ['ignore', out, out],
    });
    if (typeof out === 'number') fs.closeSync(out);
    const proc: Proc = {
      child,
      bundle: req.bundle,
      exited: new Promise((resolve) => child.once('exit', () => resolve())),
    };
    child.once('exit', (code, signal) => {
      proc.exitStatus = signal ? 128 + (signal === 'SIGKILL' ? 9 : 15) : (code ?? 255);
      proc.exitedAt = nowTimestamp();
      void this.publish('/tasks/exit', 'containerd.events.TaskExit', {
        container_id: r.id,
        id: r.id,
        pid: child.pid,
        exit_status: proc.exitStatus,
        exited_at: proc.exitedAt,
      });
    });
    this.procs.set(r.id, proc);
    fs.writeFileSync(path.join(req.bundle, 'init.pid'), String(child.pid));
    await this.publish('/tasks/start', 'containerd.events.TaskStart', { container_id: r.id, pid: child.pid });
    return { pid: child.pid };
  }

  private state(id: string): Message {
    const p = this.procs.get(id);
    const created = this.pending.get(id);
    if (!p && !created) throw notFound(`container ${id} not created: not found`);
    const status = !p ? 'CREATED' : p.exitStatus === undefined ? 'RUNNING' : 'STOPPED';
    return {
      id,
      bundle: created?.bundle ?? '',
      pid: p?.child.pid ?? 0,
      status,
      exit_status: p?.exitStatus ?? 0,
      exited_at: p?.exitedAt,
    };
  }

  private kill(r: TaskRequest): Message {
    this.proc(r.id).child.kill(r.signal);
    return {};
  }

  private async wait(id: string): Promise<Message> {
    const p = this.proc(id);
    await p.exited;
    return { exit_status: p.exitStatus, exited_at: p.exitedAt };
  }

  private async delete(id: string): Promise<Message> {
    const p = this.procs.get(id);
    if (p && p.exitStatus === undefined) throw failedPrecondition('cannot delete a running process');
    const bundle = this.pending.get(id)?.bundle;
    this.procs.delete(id);
    this.pending.delete(id);
    if (bundle) unmountRootfs(bundle);
    const response = { pid: p?.child.pid ?? 0, exit_status: p?.exitStatus ?? 0, exited_at: p?.exitedAt };
    await this.publish('/tasks/delete', 'containerd.events.TaskDelete', { container_id: id, id, ...response });
    return response;
  }

  private shutdown(r: TaskRequest): Message {
    if ((this.procs.size === 0 && this.pending.size === 0) || r.now) setTimeout(() => process.exit(0), 10);
    return {};
  }
}

async function serve(values: Record<string, string>): Promise<void> {
  const service = new FakeTaskService(values.namespace!, values.mode ?? '');
  await service.server.listen(values.socket!);
}

/** `delete` after a crash: kill the bundle's process and report it. */
function cleanup(): void {
  const bundle = process.cwd();
  let pid = 0;
  try {
    pid = Number(fs.readFileSync(path.join(bundle, 'init.pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
  } catch {
    // nothing left to kill
  }
  process.stdout.write(encodeMessage(`${TASK}.DeleteResponse`, { pid, exit_status: 137, exited_at: nowTimestamp() }));
}

const { values, action } = flags(process.argv.slice(2));
if (!values.namespace) {
  process.stderr.write('fakekata: shim namespace cannot be empty');
  process.exit(1);
}
if (action === 'start') await start(values);
else if (action === 'serve') await serve(values);
else if (action === 'delete') cleanup();
else {
  process.stderr.write(`fakekata: unknown action ${JSON.stringify(action)}`);
  process.exit(1);
}
