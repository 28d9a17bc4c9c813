// What crid keeps about a pod sandbox, persisted under <root>/sandboxes/<id>.json.
import type { PodSandboxConfig__Output } from '../generated/runtime/v1/PodSandboxConfig.ts';
import type { RuntimeHandler } from '../config/model.ts';

export type SandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

export interface SandboxRecord {
  id: string;
  /** The reserved name: name_namespace_uid_attempt. */
  name: string;
  config: PodSandboxConfig__Output;
  /** The handler name as resolved ('' resolved to the default's name). */
  runtimeHandler: string;
  /**
   * The handler as RunPodSandbox named it ('' for the default), which status and lists echo as
   * containerd does; absent in records written before crid kept it.
   */
  requestedHandler?: string;
  /** The handler's settings when the pod started; the pod keeps them across reloads. */
  handler: RuntimeHandler;
  /** ns since the epoch, decimal. */
  createdAt: string;
  state: SandboxState;
  /** '' for a host-network pod. */
  netnsPath: string;
  ips: string[];
  imageId: string;
  imageRef: string;
  bundle: string;
  /** Pid of the pause process (or the VM, for VM runtimes), 0 once it is gone. */
  pid: number;
  shimPid: number;
  exitStatus?: number;
  /** ns, decimal. */
  exitedAt?: string;
  /** The network has been torn down (StopPodSandbox ran CNI DEL). */
  networkDown?: boolean;
  /**
   * RunPodSandbox has not finished: the record exists so that a crid killed halfway can undo what the
   * call had made (netns, CNI allocation, mounts, task). Clients do not see such a pod.
   */
  creating?: boolean;
}

/** A record has what crid reads from every pod sandbox without looking first. */
export function isSandboxRecord(value: object): boolean {
  const r = value as Partial<SandboxRecord>;
  const metadata: unknown = r.config?.metadata;
  const handler: unknown = r.handler;
  return (
    typeof r.name === 'string' &&
    typeof r.state === 'string' &&
    typeof metadata === 'object' &&
    metadata !== null &&
    typeof handler === 'object' &&
    handler !== null
  );
}
