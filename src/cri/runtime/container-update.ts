import type { UpdateContainerResourcesRequest__Output } from '../../generated/runtime/v1/UpdateContainerResourcesRequest.ts';
import type { UpdateContainerResourcesResponse } from '../../generated/runtime/v1/UpdateContainerResourcesResponse.ts';
import { invalidArgument } from '../../errors.ts';
import type { PodDeps } from '../../pod/deps.ts';
import { updateContainerResources } from '../../pod/container/update.ts';

/** UpdateContainerResources: the shim applies the new resources, the record keeps them (pod/container/update.ts). */
export function updateContainerResourcesRpc(deps: PodDeps) {
  return async (req: UpdateContainerResourcesRequest__Output): Promise<UpdateContainerResourcesResponse> => {
    if (!req.container_id) throw invalidArgument('container_id is required');
    if (!req.linux) throw invalidArgument('UpdateContainerResources: linux resources are required');
    await updateContainerResources(deps, req.container_id, req.linux, req.annotations ?? {});
    return {};
  };
}
