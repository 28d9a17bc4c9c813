// RunPodSandbox: check the request, then start the pod (pod/sandbox/run.ts) behind the handler's
// self-check gate.
import type { RunPodSandboxRequest__Output } from '../../generated/runtime/v1/RunPodSandboxRequest.ts';
import type { RunPodSandboxResponse } from '../../generated/runtime/v1/RunPodSandboxResponse.ts';
import type { PodSandboxConfig__Output } from '../../generated/runtime/v1/PodSandboxConfig.ts';
import type { RpcContext } from '../../server/rpc.ts';
import type { PodDeps } from '../../pod/deps.ts';
import { startSandbox } from '../../pod/sandbox/run.ts';
import { checkMetadata } from '../../oci/sandbox-spec.ts';
import { invalidArgument } from '../../errors.ts';

export function runPodSandbox(deps: PodDeps) {
  return async (req: RunPodSandboxRequest__Output, ctx: RpcContext): Promise<RunPodSandboxResponse> => {
    refuseHostnameOnHostNetwork(req.config);
    const config = checkConfig(req.config);
    const record = await startSandbox(deps, { ...req, config }, ctx.log, { healthGate: true });
    return { pod_sandbox_id: record.id };
  };
}

function checkConfig(config: PodSandboxConfig__Output | null): PodSandboxConfig__Output {
  if (!config) throw invalidArgument('RunPodSandbox: config is required');
  checkMetadata(config);
  return config;
}

/** A pod on the node's network has the node's hostname; containerd refuses to set another. */
function refuseHostnameOnHostNetwork(config: PodSandboxConfig__Output | null): void {
  if (config?.hostname && config.linux?.security_context?.namespace_options?.network === 'NODE') {
    throw invalidArgument(
      `hostname ${JSON.stringify(config.hostname)} cannot be set for a pod that uses the host network`,
    );
  }
}
