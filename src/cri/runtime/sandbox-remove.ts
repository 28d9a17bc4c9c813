import type { RemovePodSandboxRequest__Output } from '../../generated/runtime/v1/RemovePodSandboxRequest.ts';
import type { RemovePodSandboxResponse } from '../../generated/runtime/v1/RemovePodSandboxResponse.ts';
import { invalidArgument } from '../../errors.ts';
import type { PodDeps } from '../../pod/deps.ts';
import { removePodSandbox } from '../../pod/sandbox/remove.ts';

/** RemovePodSandbox: forcibly stops and removes the pod and its containers; an unknown id is success. */
export function removePodSandboxRpc(deps: PodDeps) {
  return async (req: RemovePodSandboxRequest__Output): Promise<RemovePodSandboxResponse> => {
    if (!req.pod_sandbox_id) throw invalidArgument('pod_sandbox_id is required');
    const sandbox = deps.sandboxes.find(req.pod_sandbox_id);
    // A pod still being created is not the client's yet: its RunPodSandbox undoes it if it fails.
    if (sandbox && !sandbox.creating) await removePodSandbox(deps, sandbox.id);
    return {};
  };
}
