// RunPodSandbox: start the pod (src/pod/sandbox-start.ts) behind the handler's self-check gate.
import type { RunPodSandboxRequest__Output } from '../../generated/runtime/v1/RunPodSandboxRequest.ts';
import type { RunPodSandboxResponse } from '../../generated/runtime/v1/RunPodSandboxResponse.ts';
import type { RpcContext } from '../../server/rpc.ts';
import type { PodDeps } from '../../pod/deps.ts';
import { startSandbox } from '../../pod/sandbox-start.ts';

export function runPodSandbox(deps: PodDeps) {
  return async (req: RunPodSandboxRequest__Output, ctx: RpcContext): Promise<RunPodSandboxResponse> => {
    const record = await startSandbox(deps, req, ctx.log, { healthGate: true });
    return { pod_sandbox_id: record.id };
  };
}

