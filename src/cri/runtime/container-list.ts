import type { ListContainersRequest__Output } from '../../generated/runtime/v1/ListContainersRequest.ts';
import type { ListContainersResponse } from '../../generated/runtime/v1/ListContainersResponse.ts';
import type { PodDeps } from '../../pod/deps.ts';
import { containerSummaryOf } from '../../pod/cri-status.ts';
import { matchesIdPrefix, matchesLabels } from '../filters.ts';

/** ListContainers with the CRI filters: id (prefix), state, pod_sandbox_id (prefix), label selector. */
export function listContainersRpc(deps: PodDeps) {
  return async (req: ListContainersRequest__Output): Promise<ListContainersResponse> => {
    const f = req.filter;
    const containers = deps.containers
      .list()
      .filter((c) => matchesIdPrefix(c.id, f?.id))
      .filter((c) => !f?.state || c.state === f.state.state)
      .filter((c) => matchesIdPrefix(c.sandboxId, f?.pod_sandbox_id))
      .filter((c) => matchesLabels(c.config.labels, f?.label_selector))
      .sort((a, b) => (BigInt(a.createdAt) < BigInt(b.createdAt) ? -1 : 1))
      .map(containerSummaryOf);
    return { containers };
  };
}
