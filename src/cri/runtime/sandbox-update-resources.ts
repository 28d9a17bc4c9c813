import type { UpdatePodSandboxResourcesRequest__Output } from '../../generated/runtime/v1/UpdatePodSandboxResourcesRequest.ts';
import type { UpdatePodSandboxResourcesResponse } from '../../generated/runtime/v1/UpdatePodSandboxResourcesResponse.ts';
import { invalidArgument } from '../../errors.ts';
import type { PodDeps } from '../../pod/deps.ts';
import { updateSandboxResources } from '../../pod/sandbox/update-resources.ts';

/** UpdatePodSandboxResources: records the pod's new resources and overhead (pod/sandbox/update-resources.ts). */
export function updatePodSandboxResources(deps: PodDeps) {
  return async (req: UpdatePodSandboxResourcesRequest__Output): Promise<UpdatePodSandboxResourcesResponse> => {
    if (!req.pod_sandbox_id) throw invalidArgument('pod_sandbox_id is required');
    await updateSandboxResources(deps, req.pod_sandbox_id, req.resources, req.overhead);
    return {};
  };
}
