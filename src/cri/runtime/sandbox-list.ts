import type { ListPodSandboxRequest__Output } from '../../generated/runtime/v1/ListPodSandboxRequest.ts';
import type { ListPodSandboxResponse } from '../../generated/runtime/v1/ListPodSandboxResponse.ts';
import type { PodDeps } from '../../pod/deps.ts';
import { sandboxSummaryOf } from '../../pod/cri-status.ts';
import { matchesIdPrefix, matchesLabels } from '../filters.ts';

export function listPodSandbox(deps: PodDeps) {
  return async (req: ListPodSandboxRequest__Output): Promise<ListPodSandboxResponse> => {
    const f = req.filter;
    const items = deps.sandboxes
      .list()
      .filter((s) => !s.creating)
      .filter((s) => matchesIdPrefix(s.id, f?.id))
      .filter((s) => !f?.state || s.state === f.state.state)
      .filter((s) => matchesLabels(s.config.labels, f?.label_selector))
      .sort((a, b) => (BigInt(a.createdAt) < BigInt(b.createdAt) ? -1 : 1))
      .map(sandboxSummaryOf);
    return { items };
  };
}
