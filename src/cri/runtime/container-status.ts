import type { ContainerStatusRequest__Output } from '../../generated/runtime/v1/ContainerStatusRequest.ts';
import type { ContainerStatusResponse } from '../../generated/runtime/v1/ContainerStatusResponse.ts';
import { invalidArgument } from '../../errors.ts';
import type { ContainerRecord } from '../../store/container.ts';
import type { PodDeps } from '../../pod/deps.ts';
import { containerStatusOf } from '../../pod/cri-status.ts';

/** ContainerStatus; `verbose` adds containerd-like info: pid, sandbox, handler, config and runtime spec. */
export function containerStatusRpc(deps: PodDeps) {
  return async (req: ContainerStatusRequest__Output): Promise<ContainerStatusResponse> => {
    if (!req.container_id) throw invalidArgument('container_id is required');
    const container = deps.containers.get(req.container_id);
    return { status: containerStatusOf(container), info: req.verbose ? { info: verboseInfo(deps, container) } : {} };
  };
}

function verboseInfo(deps: PodDeps, c: ContainerRecord): string {
  const sandbox = deps.sandboxes.find(c.sandboxId);
  const head = JSON.stringify({
    sandboxID: c.sandboxId,
    pid: c.pid,
    shimPid: c.shimPid,
    runtimeHandler: c.runtimeHandler,
    runtimeType: sandbox?.handler.runtime_type ?? '',
    runtimeOptions: sandbox?.handler.options ?? {},
    bundle: c.bundle,
    snapshotKey: c.id,
    stopSignal: c.stopSignal,
    config: c.config,
  });
  // The spec text is spliced in as is: JSON.parse would round its int64s.
  return `${head.slice(0, -1)},"runtimeSpec":${c.runtimeSpec || 'null'}}`;
}
