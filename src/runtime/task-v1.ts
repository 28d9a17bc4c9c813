// TaskService over the legacy `containerd.runtime.linux.shim.v1.Shim` (containerd-shim, one per task).
// Per-process calls name the exec id, or the container id for the init process; Delete has no id.
import { unimplemented } from '../errors.ts';
import { jsonAny, type Message } from '../ttrpc/codec.ts';
import type { TtrpcClient } from '../ttrpc/client.ts';
import {
  PROCESS_SPEC_TYPE_URL,
  RESOURCES_TYPE_URL,
  type CreateTaskRequest,
  type ExecRequest,
  type ExitInfo,
  type KillOptions,
  type ProcessInfo,
  type ShimInfo,
  type TaskService,
  type TaskState,
  type TaskStats,
} from './task-service.ts';
import {
  exitFrom,
  processInfoFrom,
  stateFrom,
  type ExitMessage,
  type ProcessMessage,
  type StateMessage,
} from './task-v2.ts';

const SERVICE = 'containerd.runtime.linux.shim.v1.Shim';
const PKG = 'containerd.runtime.linux.shim.v1';
const EMPTY = 'google.protobuf.Empty';

export interface TaskV1Options {
  timeoutMs: number;
  /** OCI runtime binary given in Create (`runtime`); '' = runc from PATH. */
  runtime: string;
  /** Stops the shim process: the v1 shim has no Shutdown call (containerd SIGKILLs it). */
  killShim: () => Promise<void>;
}

export class TaskV1 implements TaskService {
  readonly kind = 'v1' as const;
  private readonly client: TtrpcClient;
  private readonly options: TaskV1Options;

  constructor(client: TtrpcClient, options: TaskV1Options) {
    this.client = client;
    this.options = options;
  }

  private call<Res extends object = Message>(
    method: string,
    requestType: string,
    request: Message,
    responseType: string,
    timeoutMs = this.options.timeoutMs,
  ): Promise<Res> {
    const qualify = (t: string) => (t.startsWith('google.') ? t : `${PKG}.${t}`);
    return this.client.request<Res>(SERVICE, method, qualify(requestType), request, qualify(responseType), {
      timeoutMs,
    });
  }

  async connect(id: string): Promise<ShimInfo> {
    const info = await this.call<{ shim_pid: number }>('ShimInfo', EMPTY, {}, 'ShimInfoResponse');
    const state = await this.call<{ pid: number }>('State', 'StateRequest', { id }, 'StateResponse').catch(() => ({
      pid: 0,
    }));
    return { shimPid: info.shim_pid, taskPid: state.pid, version: '' };
  }

  async create(req: CreateTaskRequest): Promise<{ pid: number }> {
    const r = await this.call<{ pid: number }>(
      'Create',
      'CreateTaskRequest',
      {
        id: req.id,
        bundle: req.bundle,
        runtime: this.options.runtime,
        rootfs: req.rootfs,
        terminal: req.io.terminal,
        stdin: req.io.stdin,
        stdout: req.io.stdout,
        stderr: req.io.stderr,
        options: req.options,
      },
      'CreateTaskResponse',
    );
    return { pid: r.pid };
  }

  async start(id: string, execId = ''): Promise<{ pid: number }> {
    const r = await this.call<{ pid: number }>('Start', 'StartRequest', { id: execId || id }, 'StartResponse');
    return { pid: r.pid };
  }

  async state(id: string, execId = ''): Promise<TaskState> {
    return stateFrom(
      await this.call<StateMessage>('State', 'StateRequest', { id: execId || id }, 'StateResponse'),
      execId,
    );
  }

  async pids(id: string): Promise<ProcessInfo[]> {
    const r = await this.call<{ processes: ProcessMessage[] }>(
      'ListPids',
      'ListPidsRequest',
      { id },
      'ListPidsResponse',
    );
    return r.processes.map(processInfoFrom);
  }

  async exec(req: ExecRequest): Promise<void> {
    const request = {
      id: req.execId,
      terminal: req.io.terminal,
      stdin: req.io.stdin,
      stdout: req.io.stdout,
      stderr: req.io.stderr,
      spec: jsonAny(PROCESS_SPEC_TYPE_URL, req.process),
    };
    await this.call('Exec', 'ExecProcessRequest', request, EMPTY);
  }

  async kill(id: string, signal: number, options: KillOptions = {}): Promise<void> {
    const request = { id: options.execId || id, signal, all: options.all ?? false };
    await this.call('Kill', 'KillRequest', request, EMPTY);
  }

  async wait(id: string, execId = ''): Promise<ExitInfo> {
    const r = await this.call<ExitMessage>('Wait', 'WaitRequest', { id: execId || id }, 'WaitResponse', 0);
    return { ...exitFrom(r), pid: 0 };
  }

  async delete(_id: string, execId = ''): Promise<ExitInfo> {
    const r = execId
      ? await this.call<ExitMessage>('DeleteProcess', 'DeleteProcessRequest', { id: execId }, 'DeleteResponse')
      : await this.call<ExitMessage>('Delete', EMPTY, {}, 'DeleteResponse');
    return exitFrom(r);
  }

  async resizePty(id: string, execId: string, width: number, height: number): Promise<void> {
    await this.call('ResizePty', 'ResizePtyRequest', { id: execId || id, width, height }, EMPTY);
  }

  async closeIO(id: string, execId: string): Promise<void> {
    await this.call('CloseIO', 'CloseIORequest', { id: execId || id, stdin: true }, EMPTY);
  }

  async update(_id: string, resources: object): Promise<void> {
    await this.call('Update', 'UpdateTaskRequest', { resources: jsonAny(RESOURCES_TYPE_URL, resources) }, EMPTY);
  }

  async stats(): Promise<TaskStats> {
    throw unimplemented('the legacy v1 shim has no Stats call; read the task cgroup instead');
  }

  async pause(): Promise<void> {
    await this.call('Pause', EMPTY, {}, EMPTY);
  }

  async resume(): Promise<void> {
    await this.call('Resume', EMPTY, {}, EMPTY);
  }

  async shutdown(): Promise<void> {
    this.client.close();
    await this.options.killShim();
  }

  close(): void {
    this.client.close();
  }

  isClosed(): boolean {
    return this.client.closed;
  }

  onClose(listener: (err: Error) => void): void {
    this.client.onClose(listener);
  }
}
