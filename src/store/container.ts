// What crid keeps about a container, persisted under <root>/store/containers/<id>.json.
import type { ContainerConfig__Output } from '../generated/runtime/v1/ContainerConfig.ts';
import type { Process } from '../oci/spec-types.ts';

export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

export interface ContainerRecord {
  id: string;
  sandboxId: string;
  /** The reserved name: name_sandboxName_sandboxNamespace_sandboxUid_attempt. */
  name: string;
  config: ContainerConfig__Output;
  imageId: string;
  /** The image as the request named it, and its repo digest. */
  imageName: string;
  imageRef: string;
  /** Absolute log file path ('' when the pod has no log directory). */
  logPath: string;
  state: ContainerState;
  /** ns since the epoch, decimal; '0' when not reached. */
  createdAt: string;
  startedAt: string;
  finishedAt: string;
  pid: number;
  exitCode: number;
  reason: string;
  message: string;
  oomKilled?: boolean;
  /** The signal StopContainer sends first (from the request, the image, or SIGTERM). */
  stopSignal: string;
  /** Directory of the container's stdio FIFOs. */
  ioDir: string;
  /** The handler name of the pod (the task runs in the pod's shim). */
  runtimeHandler: string;
  bundle: string;
  shimPid: number;
  /** The spec's process: execs run as the container's process with another argv. */
  process: Process;
  /** The spec's linux.cgroupsPath, where stats are read. */
  cgroupsPath: string;
  /** The OCI spec as written to config.json (exact int64s), for verbose status. */
  runtimeSpec: string;
}

/** A record has what crid reads from every container without looking first. */
export function isContainerRecord(value: object): boolean {
  const r = value as Partial<ContainerRecord>;
  const metadata: unknown = r.config?.metadata;
  return (
    typeof r.sandboxId === 'string' &&
    typeof r.name === 'string' &&
    typeof r.state === 'string' &&
    typeof r.ioDir === 'string' &&
    typeof metadata === 'object' &&
    metadata !== null
  );
}
