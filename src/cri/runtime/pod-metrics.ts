// The CRI metrics RPCs: ListMetricDescriptors and ListPodSandboxMetrics (StreamPodSandboxMetrics
// pages the latter, see ../stream-lists.ts).
import type { ListMetricDescriptorsResponse } from '../../generated/runtime/v1/ListMetricDescriptorsResponse.ts';
import type { ListPodSandboxMetricsResponse } from '../../generated/runtime/v1/ListPodSandboxMetricsResponse.ts';
import type { PodDeps } from '../../pod/deps.ts';
import { metricDescriptors, podSandboxMetricsOf } from '../../stats/cri-metrics.ts';

export function podMetricsRpcs(deps: PodDeps) {
  const containersOf = (podId: string) => deps.containers.list().filter((c) => c.sandboxId === podId);
  return {
    ListMetricDescriptors: async (): Promise<ListMetricDescriptorsResponse> => ({ descriptors: metricDescriptors() }),
    ListPodSandboxMetrics: async (): Promise<ListPodSandboxMetricsResponse> => {
      const ready = deps.sandboxes.list().filter((s) => s.state === 'SANDBOX_READY');
      return {
        pod_metrics: await Promise.all(ready.map((s) => podSandboxMetricsOf(s, containersOf(s.id), deps.host))),
      };
    },
  };
}
