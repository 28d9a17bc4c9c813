// The one interface the pod/container layers drive a task through, whatever shim runs it
// (shim v2 over containerd.task.v2/v3, or the legacy containerd-shim v1).
import type { AnyMessage } from '../ttrpc/codec.ts';

export type TaskStatus = 'UNKNOWN' | 'CREATED' | 'RUNNING' | 'STOPPED' | 'PAUSED' | 'PAUSING';

export interface Mount {
  type: string;
  source: string;
  target?: string;
  options: string[];
}

/** Where a process's stdio goes: FIFO paths, `file://…`, `binary://…`, or '' for /dev/null. */
export interface ProcessIO {
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
}

export interface CreateTaskRequest {
  id: string;
  bundle: string;
  /** Mounted by the shim onto <bundle>/rootfs in order; empty when rootfs/ is already populated. */
  rootfs: Mount[];
  io: ProcessIO;
  /** Runtime options (e.g. containerd.runc.v1.Options); see runtime-options.ts. */
  options?: AnyMessage;
}

export interface ExecRequest {
  id: string;
  execId: string;
  io: ProcessIO;
  /** The OCI runtime-spec Process object. */
  process: object;
}

/** Exit of a process; exitedAt is nanoseconds since the epoch as a decimal string ('0' = unknown). */
export interface ExitInfo {
  pid: number;
  exitStatus: number;
  exitedAt: string;
}

export interface TaskState {
  id: string;
  execId: string;
  pid: number;
  status: TaskStatus;
  io: ProcessIO;
  exitStatus: number;
  exitedAt: string;
}

export interface ProcessInfo {
  pid: number;
  /** Set when the process is an exec of the task. */
  execId: string;
}

export interface ShimInfo {
  shimPid: number;
  taskPid: number;
  version: string;
}

export interface TaskStats {
  /** e.g. io.containerd.cgroups.v1.Metrics */
  typeUrl: string;
  /** Decoded when the type is known (cgroups v1/v2 metrics), else the raw bytes. */
  metrics: Record<string, unknown> | Buffer;
}

export interface KillOptions {
  execId?: string;
  all?: boolean;
}

export interface TaskService {
  /** Which protocol drives the shim: 'v2' (containerd.task.v2/v3) or 'v1' (legacy shim). */
  readonly kind: 'v1' | 'v2';
  connect(id: string): Promise<ShimInfo>;
  create(request: CreateTaskRequest): Promise<{ pid: number }>;
  /** Starts the init process, or an exec when execId is given. */
  start(id: string, execId?: string): Promise<{ pid: number }>;
  state(id: string, execId?: string): Promise<TaskState>;
  pids(id: string): Promise<ProcessInfo[]>;
  exec(request: ExecRequest): Promise<void>;
  kill(id: string, signal: number, options?: KillOptions): Promise<void>;
  /** Resolves when the process exits; no deadline. */
  wait(id: string, execId?: string): Promise<ExitInfo>;
  delete(id: string, execId?: string): Promise<ExitInfo>;
  resizePty(id: string, execId: string, width: number, height: number): Promise<void>;
  closeIO(id: string, execId: string): Promise<void>;
  /** resources: an OCI LinuxResources object. */
  update(id: string, resources: object, annotations?: Record<string, string>): Promise<void>;
  stats(id: string): Promise<TaskStats>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** Asks the shim to exit; a v2 shim that still owns other tasks ignores it unless now. */
  shutdown(id: string, now?: boolean): Promise<void>;
  /** Closes crid's connection; the shim keeps running. */
  close(): void;
  /** True once the connection is gone. */
  isClosed(): boolean;
  /** Called once when the connection to the shim is lost or closed. */
  onClose(listener: (err: Error) => void): void;
}

export const PROCESS_SPEC_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/Process';
export const RESOURCES_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/LinuxResources';
