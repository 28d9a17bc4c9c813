// TaskService over ttrpc `containerd.task.v2.Task` (1.6/1.7 shims, kata) or `containerd.task.v3.Task`
// (containerd 2.x shims): the same messages and field numbers under another package.
import {
  hasType,
  jsonAny,
  timestampToNanos,
  unpackAny,
  type AnyMessage,
  type Message,
  type Timestamp,
} from '../ttrpc/codec.ts';
import type { TtrpcClient } from '../ttrpc/client.ts';
import {
  PROCESS_SPEC_TYPE_URL,
  RESOURCES_TYPE_URL,
  type CreateTaskRequest,
  type ExecRequest,
  type ExitInfo,
  type KillOptions,
  type ProcessIO,
  type ProcessInfo,
  type ShimInfo,
  type TaskService,
  type TaskState,
  type TaskStats,
  type TaskStatus,
} from './task-service.ts';

export type TaskApiVersion = 2 | 3;

export interface TaskV2Options {
  /** Deadline of every call but Wait; 0 = none. */
  timeoutMs: number;
}

/** Replies of the task API (v1, v2 and v3) as decoded, as far as crid reads them. */
export interface ExitMessage {
  /** Absent from WaitResponse. */
  pid?: number;
  exit_status: number;
  exited_at: Timestamp | null;
}

export interface StateMessage extends ProcessIO {
  id: string;
  exec_id: string;
  pid: number;
  status: string;
  exit_status: number;
  exited_at: Timestamp | null;
}

export interface ProcessMessage {
  pid: number;
  info: AnyMessage | null;
}

export function exitFrom(message: ExitMessage): ExitInfo {
  return { pid: message.pid ?? 0, exitStatus: message.exit_status, exitedAt: timestampToNanos(message.exited_at) };
}

export function ioFrom(message: ProcessIO): ProcessIO {
  return { stdin: message.stdin, stdout: message.stdout, stderr: message.stderr, terminal: message.terminal };
}

export function stateFrom(message: StateMessage, execId: string): TaskState {
  return {
    id: message.id,
    execId: message.exec_id || execId,
    pid: message.pid,
    status: message.status as TaskStatus,
    io: ioFrom(message),
    exitStatus: message.exit_status,
    exitedAt: timestampToNanos(message.exited_at),
  };
}

export function processInfoFrom(message: ProcessMessage): ProcessInfo {
  const info = message.info;
  const details =
    info?.type_url && hasType(info.type_url.replace(/^.*\//, '')) ? unpackAny<{ exec_id: string }>(info) : undefined;
  return { pid: message.pid, execId: details?.exec_id ?? '' };
}

export function statsFrom(any: AnyMessage | null): TaskStats {
  if (!any) return { typeUrl: '', metrics: Buffer.alloc(0) };
  const name = any.type_url.replace(/^.*\//, '');
  return { typeUrl: any.type_url, metrics: hasType(name) ? unpackAny(any) : any.value };
}

export class TaskV2 implements TaskService {
  readonly kind = 'v2' as const;
  private readonly client: TtrpcClient;
  private readonly service: string;
  private readonly pkg: string;
  private readonly timeoutMs: number;

  constructor(client: TtrpcClient, version: TaskApiVersion, options: TaskV2Options) {
    this.client = client;
    this.pkg = `containerd.task.v${version}`;
    this.service = `${this.pkg}.Task`;
    this.timeoutMs = options.timeoutMs;
  }

  private call<Res extends object = Message>(
    method: string,
    requestType: string,
    request: Message,
    responseType: string,
    timeoutMs = this.timeoutMs,
  ): Promise<Res> {
    const response = responseType.startsWith('google.') ? responseType : `${this.pkg}.${responseType}`;
    return this.client.request<Res>(this.service, method, `${this.pkg}.${requestType}`, request, response, {
      timeoutMs,
    });
  }

  async connect(id: string): Promise<ShimInfo> {
    const r = await this.call<{ shim_pid: number; task_pid: number; version: string }>(
      'Connect',
      'ConnectRequest',
      { id },
      'ConnectResponse',
    );
    return { shimPid: r.shim_pid, taskPid: r.task_pid, version: r.version };
  }

  async create(req: CreateTaskRequest): Promise<{ pid: number }> {
    const r = await this.call<{ pid: number }>(
      'Create',
      'CreateTaskRequest',
      {
        id: req.id,
        bundle: req.bundle,
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
    const r = await this.call<{ pid: number }>('Start', 'StartRequest', { id, exec_id: execId }, 'StartResponse');
    return { pid: r.pid };
  }

  async state(id: string, execId = ''): Promise<TaskState> {
    return stateFrom(
      await this.call<StateMessage>('State', 'StateRequest', { id, exec_id: execId }, 'StateResponse'),
      execId,
    );
  }

  async pids(id: string): Promise<ProcessInfo[]> {
    const r = await this.call<{ processes: ProcessMessage[] }>('Pids', 'PidsRequest', { id }, 'PidsResponse');
    return r.processes.map(processInfoFrom);
  }

  async exec(req: ExecRequest): Promise<void> {
    await this.call(
      'Exec',
      'ExecProcessRequest',
      {
        id: req.id,
        exec_id: req.execId,
        terminal: req.io.terminal,
        stdin: req.io.stdin,
        stdout: req.io.stdout,
        stderr: req.io.stderr,
        spec: jsonAny(PROCESS_SPEC_TYPE_URL, req.process),
      },
      'google.protobuf.Empty',
    );
  }

  async kill(id: string, signal: number, options: KillOptions = {}): Promise<void> {
    const request = { id, exec_id: options.execId ?? '', signal, all: options.all ?? false };
    await this.call('Kill', 'KillRequest', request, 'google.protobuf.Empty');
  }

  async wait(id: string, execId = ''): Promise<ExitInfo> {
    return exitFrom(await this.call<ExitMessage>('Wait', 'WaitRequest', { id, exec_id: execId }, 'WaitResponse', 0));
  }

  async delete(id: string, execId = ''): Promise<ExitInfo> {
    return exitFrom(await this.call<ExitMessage>('Delete', 'DeleteRequest', { id, exec_id: execId }, 'DeleteResponse'));
  }

  async resizePty(id: string, execId: string, width: number, height: number): Promise<void> {
    await this.call('ResizePty', 'ResizePtyRequest', { id, exec_id: execId, width, height }, 'google.protobuf.Empty');
  }

  async closeIO(id: string, execId: string): Promise<void> {
    await this.call('CloseIO', 'CloseIORequest', { id, exec_id: execId, stdin: true }, 'google.protobuf.Empty');
  }

  async update(id: string, resources: object, annotations: Record<string, string> = {}): Promise<void> {
    const request = { id, resources: jsonAny(RESOURCES_TYPE_URL, resources), annotations };
    await this.call('Update', 'UpdateTaskRequest', request, 'google.protobuf.Empty');
  }

  async stats(id: string): Promise<TaskStats> {
    return statsFrom(
      (await this.call<{ stats: AnyMessage | null }>('Stats', 'StatsRequest', { id }, 'StatsResponse')).stats,
    );
  }

  async pause(id: string): Promise<void> {
    await this.call('Pause', 'PauseRequest', { id }, 'google.protobuf.Empty');
  }

  async resume(id: string): Promise<void> {
    await this.call('Resume', 'ResumeRequest', { id }, 'google.protobuf.Empty');
  }

  async shutdown(id: string, now = false): Promise<void> {
    try {
      await this.call('Shutdown', 'ShutdownRequest', { id, now }, 'google.protobuf.Empty');
    } catch (err) {
      // A shim that exits on Shutdown may close the connection before it answers.
      if (!this.client.closed) throw err;
    }
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
