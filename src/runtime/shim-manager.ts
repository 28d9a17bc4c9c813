// What the pod/container layer calls: start a task's shim (or join its pod's shim) and create the
// task, reconnect to shims after a crid restart, turn a lost shim into exits, and clean up.
import fs from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import type { RuntimeHandler } from '../config/model.ts';
import { isKind, notFound } from '../errors.ts';
import type { ExitMonitor } from '../events/exit-monitor.ts';
import type { Logger } from '../log.ts';
import { socketPath } from '../ttrpc/client.ts';
import { bundleDir, createBundle, openShimLog, removeBundle, reopenShimLog } from './bundle.ts';
import { runtimeOptionsAny } from './runtime-options.ts';
import { shimOptions } from '../config/options.ts';
import { deleteOciState, killCgroup } from './oci-state.ts';
import { cgroupDriver } from './cgroup-driver.ts';
import { findShimBinary, isRuncKind, isRuncShimBinary, RUNC_V2_SHIM, shimKind } from './shim-binary.ts';
import {
  cleanupDeadShimV1,
  dialShimV1,
  readShimV1Files,
  shimV1SocketPath,
  startShimV1,
  type ShimV1Invocation,
} from './shim-v1.ts';
import { flagValue, killStrayShims } from './stray-shims.ts';
import {
  deleteShimV2,
  dialShimV2,
  launchShimV2,
  readBootstrap,
  runcShimAddress,
  runcShimSocketPath,
  startShimV2,
  writeBootstrap,
  type Bootstrap,
  type ShimV2Invocation,
} from './shim-v2.ts';
import type { Mount, ProcessIO, TaskService } from './task-service.ts';
import type { Spec } from '../oci/spec-types.ts';
import { waitForExit, withWaitBackstop } from './wait-backstop.ts';
import { nowNanos } from '../util/time.ts';
import { withTimeout } from '../util/timeout.ts';

export interface ShimManagerOptions {
  /** crid's volatile state dir: bundles go to `<state>/tasks/<ns>/<id>`. */
  stateDir: string;
  namespace: string;
  /** crid's events socket (TTRPC_ADDRESS for v2 shims, -address for the v1 shim). */
  eventsAddress: string;
  /** The v2 shims' -address identity; defaults to eventsAddress. Keep it constant per node. */
  shimAddress?: string;
  /** crid's executable: -publish-binary (v2) and -containerd-binary (v1, runs `publish`). */
  publishBinary: string;
  monitor: ExitMonitor;
  log: Logger;
  startTimeoutMs?: number;
  callTimeoutMs?: number;
  /** Budget of the liveness check on reconnect and of crash cleanup (containerd: 5 s each). */
  reconnectTimeoutMs?: number;
}

export interface StartTaskRequest {
  handler: RuntimeHandler;
  /** The shim executable; resolved from the handler when absent. */
  binary?: string;
  id: string;
  /**
   * The OCI runtime spec, written as the bundle's config.json; or that file's exact text, as a
   * container's spec is kept from CreateContainer to StartContainer. Its io.kubernetes.cri.sandbox-id
   * annotation groups the task with its pod's shim.
   */
  spec: Spec | string;
  /** A container's pod: the pod's shim runs the task too when its binary groups a pod's tasks. */
  podId?: string;
  /** Mounted by the shim on <bundle>/rootfs; empty when spec.root.path points to a ready tree. */
  rootfs: Mount[];
  io: ProcessIO;
  /** Times the launch of the shim and the creation of the task (crid's RunPodSandbox phases). */
  time?: <T>(phase: 'shim_start' | 'task_create', work: () => Promise<T>) => Promise<T>;
  /** Awaited once the shim runs, before the task is created; a rejection fails the start. */
  beforeCreate?: () => Promise<unknown>;
}

/** A created (not yet started) task and the shim that runs it. */
export interface ShimTask {
  id: string;
  bundle: string;
  task: TaskService;
  shimPid: number;
  address: string;
  /** Init pid from Create (for kata: the VM's pid). */
  pid: number;
}

/** Saved in the bundle so a restarted crid knows how to reach and clean up the shim. */
interface ShimRecordFile {
  kind: 'v1' | 'v2';
  /** Its handler's isRuncKind; absent in records written before crid kept it. */
  runcKind?: boolean;
  binary: string;
  runtime: string;
  runtimeRoot: string;
  systemdCgroup: boolean;
}

const RECORD_FILE = 'crid-shim.json';
/** How long a shim told to shut down has to exit before it is killed. */
const SHIM_EXIT_WAIT_MS = 2_000;

interface Connection {
  task: TaskService;
  address: string;
  /** What `shim start` printed (v2): saved in the bundles of the tasks that join this shim. */
  bootstrap: Bootstrap | undefined;
  shimPid: number;
  /**
   * The socket file this connection was dialed through (device and inode; '' when unknown). A v2 shim's
   * start that cannot reach the shim at an address in time replaces the socket there with its own: the
   * address then names another shim, and this one is reachable only through this connection.
   */
  socket: string;
  tasks: Set<string>;
  closing: boolean;
}

/** A task's shim connection; with the task's pid when this call dialed it (its Connect answered for the task). */
interface Reached {
  conn: Connection;
  taskPid?: number;
}

interface TaskRecord {
  id: string;
  bundle: string;
  file: ShimRecordFile;
  conn: Connection | undefined;
  shimLog: net.Socket | undefined;
}

export class ShimManager {
  private readonly opts: Required<ShimManagerOptions>;
  private readonly log: Logger;
  private readonly connections = new Map<string, Promise<Connection>>();
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly removals = new Map<string, Promise<void>>();
  /** v2 shim binaries whose `start` answered a container with its pod's shim address. */
  private readonly groupingShims = new Set<string>();

  constructor(options: ShimManagerOptions) {
    this.opts = {
      shimAddress: options.eventsAddress,
      startTimeoutMs: 20_000,
      callTimeoutMs: 30_000,
      reconnectTimeoutMs: 5_000,
      ...definedOnly(options),
    } as Required<ShimManagerOptions>;
    this.log = options.log;
  }

  bundleFor(id: string): string {
    return bundleDir(this.opts.stateDir, this.opts.namespace, id);
  }

  /** Task ids that have a bundle on disk (for recovery after a restart). */
  async listBundles(): Promise<string[]> {
    try {
      return await fs.promises.readdir(path.join(this.opts.stateDir, 'tasks', this.opts.namespace));
    } catch {
      return [];
    }
  }

  get(id: string): ShimTask | undefined {
    const rec = this.tasks.get(id);
    return rec?.conn ? this.shimTask(rec, 0) : undefined;
  }

  /** Launches (or joins) the shim and creates the task in it; the caller then calls task.start(id). */
  async startTask(req: StartTaskRequest): Promise<ShimTask> {
    const log = this.log.child({ containerId: req.id, handler: req.handler.name });
    const binary = req.binary ?? findShimBinary(req.handler);
    const bundle = this.bundleFor(req.id);
    createBundle(bundle, req.spec);
    const rec: TaskRecord = {
      id: req.id,
      bundle,
      file: recordFile(req.handler, binary),
      conn: undefined,
      shimLog: undefined,
    };
    try {
      fs.writeFileSync(path.join(bundle, RECORD_FILE), JSON.stringify(rec.file));
      const time = req.time ?? (<T>(_phase: string, work: () => Promise<T>) => work());
      rec.conn = await time('shim_start', () => this.launch(rec, req, log));
      rec.conn.tasks.add(req.id);
      this.tasks.set(req.id, rec);
      await req.beforeCreate?.();
      const options = rec.file.kind === 'v2' ? runtimeOptionsAny(req.handler) : undefined;
      const conn = rec.conn;
      const { pid } = await time('task_create', () =>
        conn.task.create({ id: req.id, bundle, rootfs: req.rootfs, io: req.io, options }),
      );
      log.info({ shimPid: rec.conn.shimPid, pid }, 'task created');
      return this.shimTask(rec, pid);
    } catch (err) {
      await this.shared(req.id, () => this.removeRecord(rec)).catch((cleanupErr: unknown) =>
        log.warn({ err: cleanupErr }, 'cleanup after a failed task start failed'),
      );
      throw err;
    }
  }

  /**
   * After a crid restart: reattach to the task's shim and learn from it what happened while crid was
   * down, or clean up and report the task exited. `handler` (the pod's) stands in for a lost shim record.
   */
  reconnect(id: string, handler?: RuntimeHandler): Promise<ShimTask | undefined> {
    return this.attach(id, handler, true);
  }

  /**
   * Reattaches to a task only to take it down (one that StartContainer did not finish, or that no
   * record owns): nothing is learned or reported of it, the caller kills and removes it.
   */
  reach(id: string): Promise<ShimTask | undefined> {
    return this.attach(id, undefined, false);
  }

  private async attach(id: string, handler: RuntimeHandler | undefined, learn: boolean): Promise<ShimTask | undefined> {
    const bundle = this.bundleFor(id);
    const log = this.log.child({ containerId: id });
    const file = this.readRecordFile(bundle, handler, log);
    if (!file) {
      log.warn('the task cannot be reached (no shim record, no handler); it is taken as exited');
      this.removeFiles(id, bundle);
      this.emitExit(id, 0, 255);
      return undefined;
    }
    const rec: TaskRecord = { id, bundle, file, conn: undefined, shimLog: undefined };
    this.tasks.set(id, rec);
    try {
      const reached = await this.reattach(rec);
      rec.conn = reached.conn;
      rec.conn.tasks.add(id);
      const taskPid =
        reached.taskPid ??
        (await withTimeout(rec.conn.task.connect(id), this.opts.reconnectTimeoutMs, `Connect ${id}`)).taskPid;
      rec.shimLog = await reopenShimLog(bundle, log);
      if (learn) await this.learnState(rec, rec.conn, taskPid, log);
      return this.shimTask(rec, taskPid);
    } catch (err) {
      log.warn({ err }, 'shim is gone; cleaning up its task');
      rec.conn?.tasks.delete(id);
      rec.conn = undefined;
      await this.reportLost(rec);
      return undefined;
    }
  }

  /** The bundle's shim record; rebuilt from the handler when it is unreadable. */
  private readRecordFile(bundle: string, handler: RuntimeHandler | undefined, log: Logger): ShimRecordFile | undefined {
    try {
      return JSON.parse(fs.readFileSync(path.join(bundle, RECORD_FILE), 'utf8')) as ShimRecordFile;
    } catch (err) {
      if (!handler) return undefined;
      log.warn({ err }, 'the shim record is unreadable; it is rebuilt from the runtime handler');
      return this.handlerRecord(handler, log);
    }
  }

  private handlerRecord(handler: RuntimeHandler, log: Logger): ShimRecordFile | undefined {
    try {
      return recordFile(handler, findShimBinary(handler));
    } catch (err) {
      log.warn({ err }, 'the runtime handler names no usable shim');
      return undefined;
    }
  }

  /**
   * Exits that happened while crid was down reached no one (the shims' events had nowhere to go):
   * the shim's State tells a task that already stopped, and a Wait catches the exits still to come.
   * A shim that answers but does not have the task (one started at the address of a shim that died
   * while crid was down, or that took the address from the task's own shim) will never report its
   * exit: the task is cleaned up as one whose shim died (its own shim, if it still runs, is killed,
   * then `shim delete` takes down what that shim ran) and taken as exited.
   */
  private async learnState(rec: TaskRecord, conn: Connection, pid: number, log: Logger): Promise<void> {
    const { id } = rec;
    const { task } = conn;
    const state = await withTimeout(task.state(id), this.opts.reconnectTimeoutMs, `State ${id}`).catch(
      (err: unknown) => {
        if (isKind(err, 'NotFound')) return 'gone' as const;
        log.warn({ err }, 'the shim did not tell the state of its task; waiting for its exit');
        return undefined;
      },
    );
    if (state === 'gone') {
      log.warn('the shim does not have the task; it is taken as exited');
      const exit = await this.cleanupDeadShim(rec, conn.shimPid);
      this.emitExit(id, exit.pid || pid, exit.exitStatus);
    } else if (state?.status === 'STOPPED') this.emitExit(id, state.pid || pid, state.exitStatus, state.exitedAt);
    else waitForExit(task, this.opts.monitor, this.opts.namespace, this.log, { id, pid });
  }

  /**
   * For a task that took a SIGKILL but whose exit never came (its shim lost track of the process):
   * removes it by force (the removal ends by killing what is left in its cgroup) and reports its exit
   * as unknown, so that stopping and removing never wait on an exit that cannot come.
   */
  async takeDown(id: string): Promise<void> {
    this.log.warn(
      { containerId: id },
      'no exit came after SIGKILL; the task is removed by force and its exit is unknown',
    );
    await this.removeTask(id);
    this.emitExit(id, 0, 255);
  }

  /** A removal of the task is under way (its exit was handled; only the delete is left). */
  isRemoving(id: string): boolean {
    return this.removals.has(id);
  }

  /**
   * Removes everything of a task, keyed on its id alone: deletes it in its shim if still there, stops
   * the shim when it runs nothing else, has the OCI runtime delete whatever it still holds of the id,
   * removes the bundle and the shim's work directory. A task this crid never reached (its record
   * changed before a crash let the removal finish) is found through its bundle; `handler` (the pod's)
   * names the runtime when neither is left. Safe to repeat; concurrent calls for one task (an exit
   * event and a stop racing) share one removal.
   */
  removeTask(id: string, handler?: RuntimeHandler): Promise<void> {
    return this.shared(id, async () => {
      const rec = this.tasks.get(id) ?? (await this.recordOnDisk(id, handler));
      if (rec) await this.removeRecord(rec);
      else this.removeFiles(id, this.bundleFor(id));
    });
  }

  private shared(id: string, work: () => Promise<void>): Promise<void> {
    const running = this.removals.get(id);
    if (running) return running;
    const removal = work().finally(() => this.removals.delete(id));
    this.removals.set(id, removal);
    return removal;
  }

  /** A task only its bundle (or its pod's handler) still tells of, reattached to its shim if that runs. */
  private async recordOnDisk(id: string, handler: RuntimeHandler | undefined): Promise<TaskRecord | undefined> {
    const bundle = this.bundleFor(id);
    const log = this.log.child({ containerId: id });
    const hasBundle = fs.existsSync(bundle);
    const file = hasBundle ? this.readRecordFile(bundle, handler, log) : handler && this.handlerRecord(handler, log);
    if (!file) return undefined;
    const rec: TaskRecord = { id, bundle, file, conn: undefined, shimLog: undefined };
    if (!hasBundle) return rec;
    rec.conn = await withTimeout(this.reattach(rec), this.opts.reconnectTimeoutMs, `reaching the shim of ${id}`).then(
      (reached) => reached.conn,
      () => undefined,
    );
    rec.conn?.tasks.add(id);
    return rec;
  }

  private async removeRecord(rec: TaskRecord): Promise<void> {
    const { id, conn } = rec;
    if (conn && !conn.task.isClosed()) {
      await conn.task.delete(id).catch((err: unknown) => {
        if (!isKind(err, 'NotFound')) this.log.debug({ err, containerId: id }, 'delete of task failed');
      });
    } else if (fs.existsSync(rec.bundle)) {
      // The shim is gone: its OCI runtime state goes the way containerd's does, before the bundle
      // (which tells the cleanup the runtime's root) is removed.
      await this.cleanupDeadShim(rec);
    }
    if (conn) {
      conn.tasks.delete(id);
      if (conn.tasks.size === 0) await this.stopShim(conn, id);
    }
    // Whatever the shim did or knew: a create cut short by a crash leaves runtime state no shim owns,
    // and a runtime without state for the id leaves the container's processes to its cgroup.
    if (isRuncShim(rec.file)) {
      await deleteOciState({ ...rec.file, namespace: this.opts.namespace }, id);
      const cgroupsPath = bundleCgroupsPath(rec.bundle);
      if (cgroupsPath) await killCgroup(cgroupsPath);
    }
    rec.shimLog?.destroy();
    this.removeFiles(id, rec.bundle);
    this.tasks.delete(id);
  }

  private removeFiles(id: string, bundle: string): void {
    removeBundle(bundle);
    fs.rmSync(this.v1Workdir(id), { recursive: true, force: true });
  }

  /** Closes crid's side of every shim connection; the shims keep running for the next crid. */
  async close(): Promise<void> {
    for (const pending of this.connections.values()) {
      const conn = await pending.catch(() => undefined);
      if (!conn) continue;
      conn.closing = true;
      conn.task.close();
    }
    this.connections.clear();
    for (const rec of this.tasks.values()) rec.shimLog?.destroy();
  }

  private shimTask(rec: TaskRecord, pid: number): ShimTask {
    const conn = rec.conn!;
    return { id: rec.id, bundle: rec.bundle, task: conn.task, shimPid: conn.shimPid, address: conn.address, pid };
  }

  private v2Invocation(
    rec: TaskRecord,
    handler?: RuntimeHandler,
    timeoutMs = this.opts.startTimeoutMs,
  ): ShimV2Invocation {
    return {
      binary: rec.file.binary,
      bundle: rec.bundle,
      id: rec.id,
      namespace: this.opts.namespace,
      address: this.opts.shimAddress,
      eventsAddress: this.opts.eventsAddress,
      publishBinary: this.opts.publishBinary,
      options: handler ? runtimeOptionsAny(handler) : undefined,
      timeoutMs,
    };
  }

  private v1Workdir(id: string): string {
    return path.join(this.opts.stateDir, 'v1-work', this.opts.namespace, id);
  }

  private v1Invocation(rec: TaskRecord): ShimV1Invocation {
    return {
      binary: rec.file.binary,
      bundle: rec.bundle,
      workdir: this.v1Workdir(rec.id),
      id: rec.id,
      namespace: this.opts.namespace,
      socketDir: path.join(this.opts.stateDir, 's'),
      eventsAddress: this.opts.eventsAddress,
      publishBinary: this.opts.publishBinary,
      runtime: rec.file.runtime,
      runtimeRoot: rec.file.runtimeRoot,
      systemdCgroup: rec.file.systemdCgroup,
      timeoutMs: this.opts.callTimeoutMs,
    };
  }

  /**
   * A v2 task joins the live shim of its pod, or a shim is launched for it: containerd's runc v2 shim
   * by crid itself, which joins a task to its group's shim (shim-v2.ts); any other v2 shim through
   * `start`, which crid skips for a binary once it has shown that it groups a pod's tasks.
   */
  private async launch(rec: TaskRecord, req: StartTaskRequest, log: Logger): Promise<Connection> {
    const inv = rec.file.kind === 'v2' ? this.v2Invocation(rec, req.handler) : undefined;
    const group = inv && launchedByCrid(inv.binary, req.handler) ? shimGroup(req) : undefined;
    const podShim = inv && (group ? await this.groupShim(inv, group) : this.podShim(rec, req.podId));
    if (podShim && (group || this.groupingShims.has(rec.file.binary))) {
      writeBootstrap(rec.bundle, podShim.bootstrap!);
      return podShim;
    }
    rec.shimLog = await openShimLog(rec.bundle, log);
    if (!inv) return this.launchV1(rec, log);
    const bootstrap = group ? await launchShimV2(inv, group) : await startShimV2(inv);
    writeBootstrap(rec.bundle, bootstrap);
    const conn = (await this.connectionV2(bootstrap, rec.id)).conn;
    if (podShim && conn === podShim) this.groupingShims.add(rec.file.binary);
    return conn;
  }

  /**
   * The live v2 shim of a container's pod, when it was started from the same binary. A binary that
   * groups a pod's tasks answers `start` for a container with that shim's address, having done nothing
   * else but write it to the bundle: once a binary has shown it does, crid skips that process.
   */
  private podShim(rec: TaskRecord, podId: string | undefined): Connection | undefined {
    const pod = podId && podId !== rec.id ? this.tasks.get(podId) : undefined;
    if (!pod || pod.file.binary !== rec.file.binary) return undefined;
    return usable(pod.conn) && pod.conn.bootstrap ? pod.conn : undefined;
  }

  /** The live shim crid launched for a runc v2 task group, at the address that group names. */
  private async groupShim(inv: ShimV2Invocation, group: string): Promise<Connection | undefined> {
    const address = runcShimAddress(inv.address, inv.namespace, group);
    const conn = await this.connections.get(address)?.catch(() => undefined);
    return usable(conn) && conn.bootstrap ? conn : undefined;
  }

  /** One connection per shim address: the containers of a pod share their sandbox's shim. */
  private async connectionV2(bootstrap: Bootstrap, id: string): Promise<Reached> {
    const cached = this.connections.get(bootstrap.address);
    if (cached) {
      const conn = await cached.catch(() => undefined);
      if (usable(conn) && conn.socket === socketIdentity(bootstrap.address)) return { conn };
    }
    const dialed = this.dialV2(bootstrap, id);
    const pending = dialed.then((reached) => reached.conn);
    this.connections.set(bootstrap.address, pending);
    pending.catch(() => this.connections.delete(bootstrap.address));
    return dialed;
  }

  private async dialV2(bootstrap: Bootstrap, id: string): Promise<Reached> {
    const socket = socketIdentity(bootstrap.address);
    const raw = await dialShimV2(bootstrap, this.opts.callTimeoutMs);
    const info = await withTimeout(raw.connect(id), this.opts.reconnectTimeoutMs, `Connect ${id}`).catch(
      (err: unknown) => {
        raw.close();
        throw err;
      },
    );
    return { conn: this.track(raw, bootstrap.address, info.shimPid, socket, bootstrap), taskPid: info.taskPid };
  }

  private async launchV1(rec: TaskRecord, log: Logger): Promise<Connection> {
    const shim = await startShimV1(this.v1Invocation(rec), log);
    const pending = Promise.resolve(this.track(shim.task, shim.address, shim.pid));
    this.connections.set(shim.address, pending);
    return pending;
  }

  private async reattach(rec: TaskRecord): Promise<Reached> {
    if (rec.file.kind === 'v2') {
      const bootstrap = readBootstrap(rec.bundle);
      if (!bootstrap) throw notFound(`no shim address saved in bundle ${rec.bundle}`);
      return this.connectionV2(bootstrap, rec.id);
    }
    const files = await readShimV1Files(rec.bundle);
    if (!files) throw notFound(`no shim address saved in bundle ${rec.bundle}`);
    const inv = this.v1Invocation(rec);
    const task = await dialShimV1(inv, files.address, files.pid);
    const conn = this.track(task, files.address, files.pid);
    this.connections.set(files.address, Promise.resolve(conn));
    return { conn };
  }

  private track(raw: TaskService, address: string, shimPid: number, socket = '', bootstrap?: Bootstrap): Connection {
    const conn: Connection = {
      task: withWaitBackstop(raw, this.opts.monitor, this.opts.namespace, this.log),
      address,
      bootstrap,
      shimPid,
      socket,
      tasks: new Set(),
      closing: false,
    };
    raw.onClose(() => void this.onConnectionLost(conn));
    return conn;
  }

  private async onConnectionLost(conn: Connection): Promise<void> {
    if (conn.closing) return;
    await this.forget(conn);
    this.log.warn({ shimPid: conn.shimPid, address: conn.address, tasks: [...conn.tasks] }, 'lost connection to shim');
    await this.removeSocket(conn);
    for (const id of conn.tasks) {
      const rec = this.tasks.get(id);
      if (!rec) continue;
      rec.conn = undefined;
      await this.reportLost(rec);
    }
    conn.tasks.clear();
  }

  /** Cleans up after a dead shim the way containerd does and emits the task's exit (255 when unknown). */
  private async reportLost(rec: TaskRecord): Promise<void> {
    const exit = await this.cleanupDeadShim(rec);
    this.emitExit(rec.id, exit.pid, exit.exitStatus);
  }

  /**
   * `shim delete` (v2) or the runtime's delete (v1) for a task whose shim died; its exit if known.
   * `reached` is the shim crid reaches at the task's address, which serves other tasks and lives on.
   */
  private async cleanupDeadShim(rec: TaskRecord, reached = 0): Promise<{ pid: number; exitStatus: number }> {
    await this.killStrayShim(rec, reached);
    try {
      if (rec.file.kind === 'v2')
        return await deleteShimV2(this.v2Invocation(rec, undefined, this.opts.reconnectTimeoutMs));
      await cleanupDeadShimV1(this.v1Invocation(rec));
    } catch (err) {
      this.log.warn({ err, containerId: rec.id }, 'cleanup of a dead shim failed');
    }
    return { pid: 0, exitStatus: 255 };
  }

  /**
   * The shim launched for this task, if it still runs although crid cannot reach it, and its socket
   * (unless the shim crid reaches at the address, `reached`, now owns it).
   */
  private async killStrayShim(rec: TaskRecord, reached = 0): Promise<void> {
    const v1 = this.v1Invocation(rec);
    const isShim =
      rec.file.kind === 'v1'
        ? (args: string[]) => flagValue(args, '-workdir') === v1.workdir
        : (args: string[]) =>
            flagValue(args, '-id') === rec.id && flagValue(args, '-address') === this.opts.shimAddress;
    const killed = await killStrayShims(isShim, reached);
    if (killed.length > 0)
      this.log.warn(
        { containerId: rec.id, shimPids: killed },
        'a shim crid could not reach was still running; it is killed',
      );
    // A shim that died on its own left its socket too.
    if (reached > 0) return;
    const socket =
      rec.file.kind === 'v1'
        ? shimV1SocketPath(v1)
        : runcShimSocketPath(this.opts.shimAddress, this.opts.namespace, rec.id);
    await fs.promises.rm(socket, { force: true });
  }

  /** The exit of a task's init process, through the one exit path ('0' or no time: now). */
  private emitExit(id: string, pid: number, exitStatus: number, exitedAt = '0'): void {
    const at = exitedAt === '0' ? nowNanos() : exitedAt;
    this.opts.monitor.emit({
      type: 'exit',
      namespace: this.opts.namespace,
      containerId: id,
      id,
      pid,
      exitStatus,
      exitedAt: at,
      timestamp: at,
    });
  }

  private async stopShim(conn: Connection, id: string): Promise<void> {
    conn.closing = true;
    await this.forget(conn);
    if (!conn.task.isClosed()) {
      await conn.task
        .shutdown(id, true)
        .catch((err: unknown) => this.log.debug({ err, containerId: id }, 'shim shutdown failed'));
    }
    conn.task.close();
    // A runc shim refuses to shut down while it holds a task, and it keeps one whose Delete failed
    // (it still counts the process as running after the runtime lost it): nothing of crid's runs there.
    if (conn.shimPid > 0 && !(await exitsWithin(conn.shimPid, SHIM_EXIT_WAIT_MS))) {
      this.log.warn({ containerId: id, shimPid: conn.shimPid }, 'the shim did not exit on shutdown; it is killed');
      try {
        process.kill(conn.shimPid, 'SIGKILL');
      } catch {
        // it exited meanwhile
      }
      await this.removeSocket(conn);
    }
  }

  /** Drops the cached connection to this shim, not one to a shim that has since taken its address. */
  private async forget(conn: Connection): Promise<void> {
    const cached = this.connections.get(conn.address);
    if (cached && (await cached.catch(() => undefined)) === conn && this.connections.get(conn.address) === cached) {
      this.connections.delete(conn.address);
    }
  }

  /** Removes this shim's socket file, unless another shim's socket has replaced it. */
  private async removeSocket(conn: Connection): Promise<void> {
    if (conn.socket && conn.socket !== socketIdentity(conn.address)) return;
    await fs.promises.rm(socketPath(conn.address), { force: true });
  }
}

/** A connection that still carries calls: not being closed by crid, not lost. */
function usable(conn: Connection | undefined): conn is Connection {
  return conn !== undefined && !conn.closing && !conn.task.isClosed();
}

/** The runc v2 shim groups a task by these spec annotations, in this order (its `groupLabels`). */
const GROUP_ANNOTATIONS = ['io.containerd.runc.v2.group', 'io.kubernetes.cri.sandbox-id'];

/** A task's group, as the runc v2 shim's `start` finds it: its pod, else its spec's group, else itself. */
function shimGroup(req: StartTaskRequest): string {
  if (req.podId) return req.podId;
  const spec = typeof req.spec === 'string' ? (JSON.parse(req.spec) as Spec) : req.spec;
  for (const key of GROUP_ANNOTATIONS) {
    const group = spec.annotations?.[key];
    if (group) return group;
  }
  return req.id;
}

/**
 * Whether crid does what the shim's `start` would (shim-v2.ts): for containerd's runc v2 shim, which
 * serves a pod's containers from its pause task's shim, unless a shim cgroup is asked for, the one
 * part of its `start` crid leaves to it (cgroup v1 and v2 alike).
 */
function launchedByCrid(binary: string, handler: RuntimeHandler): boolean {
  return path.basename(binary) === RUNC_V2_SHIM && !shimOptions(handler)?.fields.shim_cgroup;
}

/** The socket file at a shim address as device and inode ('' when there is none). */
function socketIdentity(address: string): string {
  try {
    const stat = fs.statSync(socketPath(address), { throwIfNoEntry: false });
    return stat ? `${stat.dev}:${stat.ino}` : '';
  } catch {
    return '';
  }
}

/** Whether the process is gone (or a zombie) within `ms`. */
async function exitsWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const stat = await fs.promises.readFile(`/proc/${pid}/stat`, 'utf8');
      if (stat[stat.lastIndexOf(')') + 2] === 'Z') return true;
    } catch {
      return true;
    }
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** linux.cgroupsPath of the bundle's config.json; '' when there is none to read. */
function bundleCgroupsPath(bundle: string): string {
  try {
    const spec = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')) as {
      linux?: { cgroupsPath?: unknown };
    };
    return typeof spec.linux?.cgroupsPath === 'string' ? spec.linux.cgroupsPath : '';
  } catch {
    return '';
  }
}

/** The legacy shim and containerd-shim-runc-v1/v2 drive an OCI runtime of runc's kind (runc, crun). */
function isRuncShim(file: ShimRecordFile): boolean {
  return file.runcKind ?? (file.kind === 'v1' || isRuncShimBinary(file.binary));
}

function recordFile(handler: RuntimeHandler, binary: string): ShimRecordFile {
  const options = handler.options;
  const pick = (key: string): unknown =>
    Object.entries(options).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
  return {
    kind: shimKind(handler),
    runcKind: isRuncKind(handler),
    binary,
    runtime: handler.runtime_engine || String(pick('Runtime') ?? pick('BinaryName') ?? ''),
    runtimeRoot: handler.runtime_root || String(pick('RuntimeRoot') ?? pick('Root') ?? ''),
    systemdCgroup: cgroupDriver(handler) === 'systemd',
  };
}
