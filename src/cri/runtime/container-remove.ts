import type { RemoveContainerRequest__Output } from '../../generated/runtime/v1/RemoveContainerRequest.ts';
import type { RemoveContainerResponse } from '../../generated/runtime/v1/RemoveContainerResponse.ts';
import { invalidArgument } from '../../errors.ts';
import type { PodDeps } from '../../pod/deps.ts';
import { removeContainer } from '../../pod/container/remove.ts';

/** RemoveContainer: kills a container that still runs, then removes everything of it. Unknown ids succeed. */
export function removeContainerRpc(deps: PodDeps) {
  return async (req: RemoveContainerRequest__Output): Promise<RemoveContainerResponse> => {
    if (!req.container_id) throw invalidArgument('container_id is required');
    await removeContainer(deps, req.container_id);
    return {};
  };
}
