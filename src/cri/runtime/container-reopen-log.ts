import type { ReopenContainerLogRequest__Output } from '../../generated/runtime/v1/ReopenContainerLogRequest.ts';
import type { ReopenContainerLogResponse } from '../../generated/runtime/v1/ReopenContainerLogResponse.ts';
import { failedPrecondition, invalidArgument } from '../../errors.ts';
import type { PodDeps } from '../../pod/deps.ts';

/** ReopenContainerLog: after kubelet renamed the log file for rotation, write into a new one. */
export function reopenContainerLogRpc(deps: PodDeps) {
  return async (req: ReopenContainerLogRequest__Output): Promise<ReopenContainerLogResponse> => {
    if (!req.container_id) throw invalidArgument('container_id is required');
    const container = deps.containers.get(req.container_id);
    if (container.state !== 'CONTAINER_RUNNING') throw failedPrecondition(`container ${container.id} is not running`);
    const writer = deps.logWriters.get(container.id);
    if (!writer) throw failedPrecondition(`container ${container.id} has no open log`);
    writer.reopen();
    return {};
  };
}
