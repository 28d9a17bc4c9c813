// UpdateContainerResources: the new CRI resources become OCI LinuxResources applied by the shim's
// runtime (runc/crun update), and replace the container's recorded resources. A container not yet
// started has no task: its spec takes them, for StartContainer to create the task with.
import type { UpdateContainerResourcesRequest__Output } from '../../generated/runtime/v1/UpdateContainerResourcesRequest.ts';
import type { UpdateContainerResourcesResponse } from '../../generated/runtime/v1/UpdateContainerResourcesResponse.ts';
import { failedPrecondition, invalidArgument } from '../../errors.ts';
import { containerResources } from '../../oci/resources.ts';
import type { PodDeps } from '../../pod/deps.ts';
import { serializeSpec, type Resources, type Spec } from '../../oci/spec-types.ts';

export function updateContainerResourcesRpc(deps: PodDeps) {
  return async (req: UpdateContainerResourcesRequest__Output): Promise<UpdateContainerResourcesResponse> => {
    if (!req.container_id) throw invalidArgument('container_id is required');
    if (!req.linux) throw invalidArgument('UpdateContainerResources: linux resources are required');
    const linux = req.linux;
    const id = deps.containers.get(req.container_id).id;
    await deps.locks.run(id, async () => {
      const container = deps.containers.get(id);
      if (container.state === 'CONTAINER_EXITED') throw failedPrecondition(`container ${id} has exited; its resources cannot change`);
      const resources = containerResources(linux, deps.host, 'UpdateContainerResources: linux');
      const shimTask = deps.shims.get(id);
      if (shimTask) await shimTask.task.update(id, resources, req.annotations ?? {});
      else if (container.state !== 'CONTAINER_CREATED') throw failedPrecondition(`container ${id} has no task (its shim is gone)`);
      await deps.containers.update(id, (c) => {
        c.config.linux = { ...(c.config.linux ?? ({} as NonNullable<typeof c.config.linux>)), resources: linux };
        if (!shimTask) c.runtimeSpec = specWithResources(c.runtimeSpec, resources);
      });
    });
    return {};
  };
}

/**
 * The stored spec text with the new resources over the old (the device rules stay), as the runtime's
 * update would apply them. Its other integers are far below 2^53, so parsing keeps them exact.
 */
function specWithResources(specText: string, resources: Omit<Resources, 'devices'>): string {
  const spec = JSON.parse(specText) as Spec;
  return serializeSpec({ ...spec, linux: { ...spec.linux, resources: { ...spec.linux.resources, ...resources } } });
}
