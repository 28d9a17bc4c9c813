// UpdatePodSandboxResources: kubelet has resized the pod cgroup (in-place pod resize) and tells the
// runtime the pod's new resources and overhead; crid records them in the pod's config.
import type { UpdatePodSandboxResourcesRequest__Output } from '../../generated/runtime/v1/UpdatePodSandboxResourcesRequest.ts';
import type { UpdatePodSandboxResourcesResponse } from '../../generated/runtime/v1/UpdatePodSandboxResourcesResponse.ts';
import { failedPrecondition, invalidArgument } from '../../errors.ts';
import { sandboxSizingAnnotations } from '../../oci/annotations.ts';
import type { PodDeps } from '../../pod/deps.ts';

export function updatePodSandboxResources(deps: PodDeps) {
  return async (req: UpdatePodSandboxResourcesRequest__Output): Promise<UpdatePodSandboxResourcesResponse> => {
    if (!req.pod_sandbox_id) throw invalidArgument('pod_sandbox_id is required');
    const sandbox = deps.sandboxes.get(req.pod_sandbox_id);
    if (sandbox.state !== 'SANDBOX_READY') throw failedPrecondition(`pod sandbox ${sandbox.id} is not ready`);
    // The same validation the sizing annotations get at RunPodSandbox: every int64 must parse.
    sandboxSizingAnnotations(req.resources, req.overhead);
    await deps.locks.run(sandbox.id, () =>
      deps.sandboxes.update(sandbox.id, (s) => {
        const linux = s.config.linux ?? ({} as NonNullable<typeof s.config.linux>);
        s.config.linux = { ...linux, resources: req.resources ?? linux.resources ?? null, overhead: req.overhead ?? linux.overhead ?? null };
      }),
    );
    return {};
  };
}
