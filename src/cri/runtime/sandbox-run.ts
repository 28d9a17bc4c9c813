// RunPodSandbox: start the pod (src/pod/sandbox-start.ts) behind the handler's self-check gate.
import type { RunPodSandboxRequest__Output } from '../../generated/runtime/v1/RunPodSandboxRequest.ts';
import type { RunPodSandboxResponse } from '../../generated/runtime/v1/RunPodSandboxResponse.ts';
import type { RpcContext } from '../../server/rpc.ts';
import type { PodDeps } from '../../pod/deps.ts';
import { startSandbox } from '../../pod/sandbox/run.ts';
import { invalidArgument } from '../../errors.ts';

export function runPodSandbox(deps: PodDeps) {
  return async (req: RunPodSandboxRequest__Output, ctx: RpcContext): Promise<RunPodSandboxResponse> => {
    refuseHostnameOnHostNetwork(req);
    const record = await startSandbox(deps, req, ctx.log, { healthGate: true });
    return { pod_sandbox_id: record.id };
  };
}


/** A pod on the node's network has the node's hostname; containerd refuses to set another. */
function refuseHostnameOnHostNetwork(req: RunPodSandboxRequest__Output): void {
  const config = req.config;
  if (config?.hostname && config.linux?.security_context?.namespace_options?.network === 'NODE') {
    throw invalidArgument(`hostname ${JSON.stringify(config.hostname)} cannot be set for a pod that uses the host network`);
  }
}
