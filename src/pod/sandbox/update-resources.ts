// UpdatePodSandboxResources' verb: kubelet has resized the pod cgroup (in-place pod resize) and tells
// the runtime the pod's new resources and overhead; crid records them in the pod's config.
import type { LinuxContainerResources__Output } from '../../generated/runtime/v1/LinuxContainerResources.ts';
import { failedPrecondition } from '../../errors.ts';
import { sandboxSizingAnnotations } from '../../oci/annotations.ts';
import type { PodDeps } from '../deps.ts';

export async function updateSandboxResources(
  deps: PodDeps,
  idOrPrefix: string,
  resources: LinuxContainerResources__Output | null,
  overhead: LinuxContainerResources__Output | null,
): Promise<void> {
  const sandbox = deps.sandboxes.get(idOrPrefix);
  if (sandbox.state !== 'SANDBOX_READY') throw failedPrecondition(`pod sandbox ${sandbox.id} is not ready`);
  // The same validation the sizing annotations get at RunPodSandbox: every int64 must parse.
  sandboxSizingAnnotations(resources, overhead);
  await deps.locks.run(sandbox.id, () =>
    deps.sandboxes.update(sandbox.id, (s) => {
      const linux = s.config.linux ?? ({} as NonNullable<typeof s.config.linux>);
      s.config.linux = {
        ...linux,
        resources: resources ?? linux.resources ?? null,
        overhead: overhead ?? linux.overhead ?? null,
      };
    }),
  );
}
