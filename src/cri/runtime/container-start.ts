import type { StartContainerRequest__Output } from '../../generated/runtime/v1/StartContainerRequest.ts';
import type { StartContainerResponse } from '../../generated/runtime/v1/StartContainerResponse.ts';
import { invalidArgument } from '../../errors.ts';
import type { RpcContext } from '../../server/rpc.ts';
import type { PodDeps } from '../../pod/deps.ts';
import { startContainer } from '../../pod/container/start.ts';

/** StartContainer: creates the container's task and starts its process (pod/container/start.ts). */
export function startContainerRpc(deps: PodDeps) {
  return async (req: StartContainerRequest__Output, ctx: RpcContext): Promise<StartContainerResponse> => {
    if (!req.container_id) throw invalidArgument('container_id is required');
    await startContainer(deps, req.container_id, ctx.log);
    return {};
  };
}
