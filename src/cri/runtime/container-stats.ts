// The stats RPCs of containers and of their pods: ContainerStats, ListContainerStats, PodSandboxStats,
// ListPodSandboxStats.
import type { ContainerStatsRequest__Output } from '../../generated/runtime/v1/ContainerStatsRequest.ts';
import type { ContainerStatsResponse } from '../../generated/runtime/v1/ContainerStatsResponse.ts';
import type { ListContainerStatsRequest__Output } from '../../generated/runtime/v1/ListContainerStatsRequest.ts';
import type { ListContainerStatsResponse } from '../../generated/runtime/v1/ListContainerStatsResponse.ts';
import type { PodSandboxStatsRequest__Output } from '../../generated/runtime/v1/PodSandboxStatsRequest.ts';
import type { PodSandboxStatsResponse } from '../../generated/runtime/v1/PodSandboxStatsResponse.ts';
import type { ListPodSandboxStatsRequest__Output } from '../../generated/runtime/v1/ListPodSandboxStatsRequest.ts';
import type { ListPodSandboxStatsResponse } from '../../generated/runtime/v1/ListPodSandboxStatsResponse.ts';
import { invalidArgument } from '../../errors.ts';
import type { PodDeps } from '../../pod/deps.ts';
import { containerStatsOf, podSandboxStatsOf, retainSamples, statsSources } from '../../stats/cri-stats.ts';
import { matchesIdPrefix, matchesLabels } from '../filters.ts';

export function statsHandlers(deps: PodDeps) {
  const src = statsSources(deps.images, deps.host);
  const containersOf = (podId: string) => deps.containers.list().filter((c) => c.sandboxId === podId);
  const forgetGone = () =>
    retainSamples(src, new Set([...deps.containers.list(), ...deps.sandboxes.list()].map((o) => o.id)));
  return {
    ContainerStats: async (req: ContainerStatsRequest__Output): Promise<ContainerStatsResponse> => {
      if (!req.container_id) throw invalidArgument('container_id is required');
      return { stats: await containerStatsOf(deps.containers.get(req.container_id), src) };
    },
    ListContainerStats: async (req: ListContainerStatsRequest__Output): Promise<ListContainerStatsResponse> => {
      const f = req.filter;
      forgetGone();
      const chosen = deps.containers
        .list()
        .filter((c) => c.state === 'CONTAINER_RUNNING')
        .filter((c) => matchesIdPrefix(c.id, f?.id))
        .filter((c) => matchesIdPrefix(c.sandboxId, f?.pod_sandbox_id))
        .filter((c) => matchesLabels(c.config.labels, f?.label_selector));
      return { stats: await Promise.all(chosen.map((c) => containerStatsOf(c, src))) };
    },
    PodSandboxStats: async (req: PodSandboxStatsRequest__Output): Promise<PodSandboxStatsResponse> => {
      if (!req.pod_sandbox_id) throw invalidArgument('pod_sandbox_id is required');
      const sandbox = deps.sandboxes.get(req.pod_sandbox_id);
      return { stats: await podSandboxStatsOf(sandbox, containersOf(sandbox.id), src) };
    },
    ListPodSandboxStats: async (req: ListPodSandboxStatsRequest__Output): Promise<ListPodSandboxStatsResponse> => {
      const f = req.filter;
      forgetGone();
      const chosen = deps.sandboxes
        .list()
        .filter((s) => s.state === 'SANDBOX_READY')
        .filter((s) => matchesIdPrefix(s.id, f?.id))
        .filter((s) => matchesLabels(s.config.labels, f?.label_selector));
      return { stats: await Promise.all(chosen.map((s) => podSandboxStatsOf(s, containersOf(s.id), src))) };
    },
  };
}
