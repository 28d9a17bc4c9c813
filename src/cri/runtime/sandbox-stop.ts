import type { StopPodSandboxRequest__Output } from '../../generated/runtime/v1/StopPodSandboxRequest.ts';
import type { StopPodSandboxResponse } from '../../generated/runtime/v1/StopPodSandboxResponse.ts';
import { invalidArgument } from '../../errors.ts';
import { visibleSandbox, type PodDeps } from '../../pod/deps.ts';
import { stopPodSandbox } from '../../pod/sandbox/stop.ts';

/** StopPodSandbox: kills the pod's containers and pause task, tears down its network. Idempotent. */
export function stopPodSandboxRpc(deps: PodDeps) {
  return async (req: StopPodSandboxRequest__Output): Promise<StopPodSandboxResponse> => {
    if (!req.pod_sandbox_id) throw invalidArgument('pod_sandbox_id is required');
    const sandbox = visibleSandbox(deps, req.pod_sandbox_id);
    await stopPodSandbox(deps, sandbox.id);
    return {};
  };
}
