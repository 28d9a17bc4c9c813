import type { GetEventsRequest__Output } from '../../generated/runtime/v1/GetEventsRequest.ts';
import type { ContainerEventResponse } from '../../generated/runtime/v1/ContainerEventResponse.ts';
import type { RpcContext } from '../../server/rpc.ts';
import type { PodDeps } from '../../pod/deps.ts';

/** GetContainerEvents: every container and sandbox lifecycle event, until the client goes away. */
export function getContainerEventsRpc(deps: PodDeps) {
  return (
    _req: GetEventsRequest__Output,
    write: (event: ContainerEventResponse) => void,
    ctx: RpcContext,
  ): Promise<void> =>
    new Promise((resolve) => {
      const unsubscribe = deps.events.subscribe((event) => {
        try {
          write(event);
        } catch (err) {
          ctx.log.debug({ err }, 'event stream write failed');
        }
      });
      const end = () => {
        unsubscribe();
        resolve();
      };
      if (ctx.signal.aborted) end();
      else ctx.signal.addEventListener('abort', end, { once: true });
    });
}
