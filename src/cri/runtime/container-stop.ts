import type { StopContainerRequest__Output } from '../../generated/runtime/v1/StopContainerRequest.ts';
import type { StopContainerResponse } from '../../generated/runtime/v1/StopContainerResponse.ts';
import { invalidArgument } from '../../errors.ts';
import type { PodDeps } from '../../pod/deps.ts';
import type { RpcContext } from '../../server/rpc.ts';
import { stopContainer } from '../../pod/container/stop.ts';

/** StopContainer: the stop signal, SIGKILL after `timeout` seconds; success when already exited. */
export function stopContainerRpc(deps: PodDeps) {
  return async (req: StopContainerRequest__Output, ctx: RpcContext): Promise<StopContainerResponse> => {
    if (!req.container_id) throw invalidArgument('container_id is required');
    const timeout = Number(req.timeout);
    await stopContainer(deps, req.container_id, Number.isFinite(timeout) && timeout > 0 ? timeout : 0, ctx.signal);
    return {};
  };
}
