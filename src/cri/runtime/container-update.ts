// UpdateContainerResources: the new CRI resources become OCI LinuxResources applied by the shim's
// runtime (runc/crun update), and replace the container's recorded resources.
import type { UpdateContainerResourcesRequest__Output } from '../../generated/runtime/v1/UpdateContainerResourcesRequest.ts';
import type { UpdateContainerResourcesResponse } from '../../generated/runtime/v1/UpdateContainerResourcesResponse.ts';
import { failedPrecondition, invalidArgument } from '../../errors.ts';
import { containerResources } from '../../oci/resources.ts';
import type { PodDeps } from '../../pod/deps.ts';

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
      if (!shimTask) throw failedPrecondition(`container ${id} has no task (its shim is gone)`);
      await shimTask.task.update(id, resources, req.annotations ?? {});
      await deps.containers.update(id, (c) => {
        c.config.linux = { ...(c.config.linux ?? ({} as NonNullable<typeof c.config.linux>)), resources: linux };
      });
    });
    return {};
  };
}
