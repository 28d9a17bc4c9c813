// crid's own types for the task events shims publish (containerd.events.*), decoded from an Envelope.
import { timestampToNanos, unpackAny, type AnyMessage, type Timestamp } from '../ttrpc/codec.ts';

interface EventBase {
  namespace: string;
  containerId: string;
  /** When the shim published it, ns since the epoch as a decimal string. */
  timestamp: string;
}

export type TaskEvent = EventBase &
  (
    | { type: 'create'; pid: number; bundle: string }
    | { type: 'start'; pid: number }
    /** id = the exec id, or the container id for the init process. */
    | { type: 'exit'; id: string; pid: number; exitStatus: number; exitedAt: string }
    | { type: 'delete'; id: string; pid: number; exitStatus: number; exitedAt: string }
    | { type: 'oom' }
    | { type: 'exec-added'; execId: string }
    | { type: 'exec-started'; execId: string; pid: number }
    | { type: 'paused' }
    | { type: 'resumed' }
  );

export type TaskExitEvent = Extract<TaskEvent, { type: 'exit' }>;

/** containerd.services.events.ttrpc.v1 Envelope as decoded. */
export interface Envelope {
  timestamp: Timestamp | null;
  namespace: string;
  topic: string;
  event: AnyMessage | null;
}

/** The fields of the containerd.events.Task* messages as decoded; each kind has some of them. */
interface TaskEventFields {
  container_id: string;
  id?: string;
  pid?: number;
  bundle?: string;
  exit_status?: number;
  exited_at?: Timestamp | null;
  exec_id?: string;
}

type Decoder = (e: TaskEventFields) => Record<string, unknown> & { type: TaskEvent['type'] };

const DECODERS: Record<string, Decoder> = {
  'containerd.events.TaskCreate': (e) => ({ type: 'create', pid: e.pid, bundle: e.bundle }),
  'containerd.events.TaskStart': (e) => ({ type: 'start', pid: e.pid }),
  'containerd.events.TaskExit': (e) => ({
    type: 'exit',
    id: e.id || e.container_id,
    pid: e.pid,
    exitStatus: e.exit_status,
    exitedAt: timestampToNanos(e.exited_at),
  }),
  'containerd.events.TaskDelete': (e) => ({
    type: 'delete',
    id: e.id || e.container_id,
    pid: e.pid,
    exitStatus: e.exit_status,
    exitedAt: timestampToNanos(e.exited_at),
  }),
  'containerd.events.TaskOOM': () => ({ type: 'oom' }),
  'containerd.events.TaskExecAdded': (e) => ({ type: 'exec-added', execId: e.exec_id }),
  'containerd.events.TaskExecStarted': (e) => ({ type: 'exec-started', execId: e.exec_id, pid: e.pid }),
  'containerd.events.TaskPaused': () => ({ type: 'paused' }),
  'containerd.events.TaskResumed': () => ({ type: 'resumed' }),
};

/** The task event carried by an Envelope; undefined for event kinds crid does not use. */
export function taskEventFromEnvelope(envelope: Envelope): TaskEvent | undefined {
  const any = envelope.event;
  if (!any) return undefined;
  const decode = DECODERS[any.type_url.replace(/^.*\//, '')];
  if (!decode) return undefined;
  const payload = unpackAny<TaskEventFields>(any);
  return {
    namespace: envelope.namespace,
    containerId: payload.container_id,
    timestamp: timestampToNanos(envelope.timestamp),
    ...decode(payload),
  } as TaskEvent;
}
