import type { ReopenContainerLogRequest__Output } from '../../generated/runtime/v1/ReopenContainerLogRequest.ts';
import type { ReopenContainerLogResponse } from '../../generated/runtime/v1/ReopenContainerLogResponse.ts';
import { invalidArgument } from '../../errors.ts';
import type { PodDeps } from '../../pod/deps.ts';
import { reopenContainerLog } from '../../pod/container/io.ts';

/** ReopenContainerLog: after kubelet renamed the log file for rotation, write into a new one. */
export function reopenContainerLogRpc(deps: PodDeps) {
  return async (req: ReopenContainerLogRequest__Output): Promise<ReopenContainerLogResponse> => {
    if (!req.container_id) throw invalidArgument('container_id is required');
    reopenContainerLog(deps, req.container_id);
    return {};
  };
}
