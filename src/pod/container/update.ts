// UpdateContainerResources' verb: the new CRI resources become OCI LinuxResources applied by the
// shim's runtime (runc/crun update), and replace the container's recorded resources. A container not
// yet started has no task: its spec takes them, for StartContainer to create the task with.
import type { LinuxContainerResources__Output } from '../../generated/runtime/v1/LinuxContainerResources.ts';
import { failedPrecondition } from '../../errors.ts';
import { containerResources } from '../../oci/resources.ts';
import type { PodDeps } from '../deps.ts';
import { serializeSpec, type Resources, type Spec } from '../../oci/spec-types.ts';

export async function updateContainerResources(
  deps: PodDeps,
  idOrPrefix: string,
  linux: LinuxContainerResources__Output,
  annotations: Record<string, string>,
): Promise<void> {
  const id = deps.containers.get(idOrPrefix).id;
  await deps.locks.run(id, async () => {
    const container = deps.containers.get(id);
    if (container.state === 'CONTAINER_EXITED')
      throw failedPrecondition(`container ${id} has exited; its resources cannot change`);
    const resources = containerResources(linux, deps.host, 'UpdateContainerResources: linux');
    const shimTask = deps.shims.get(id);
    if (shimTask) await shimTask.task.update(id, resources, annotations);
    else if (container.state !== 'CONTAINER_CREATED')
      throw failedPrecondition(`container ${id} has no task (its shim is gone)`);
    await deps.containers.update(id, (c) => {
      c.config.linux = { ...(c.config.linux ?? ({} as NonNullable<typeof c.config.linux>)), resources: linux };
      if (!shimTask) c.runtimeSpec = specWithResources(c.runtimeSpec, resources);
    });
  });
}

/**
 * The stored spec text with the new resources over the old (the device rules stay), as the runtime's
 * update would apply them. Its other integers are far below 2^53, so parsing keeps them exact.
 */
function specWithResources(specText: string, resources: Omit<Resources, 'devices'>): string {
  const spec = JSON.parse(specText) as Spec;
  return serializeSpec({ ...spec, linux: { ...spec.linux, resources: { ...spec.linux.resources, ...resources } } });
}
