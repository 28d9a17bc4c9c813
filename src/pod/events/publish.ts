// The one publish path of GetContainerEvents: every verb and the exit path call publish(deps, id,
// type); whether the id is a sandbox or a container is read from the stores. A status that cannot
// be rendered (a record written by an older crid) is left out of the event: publishing never fails
// the stop or remove that triggered it.
import type { PodDeps } from '../deps.ts';
import type { ContainerEventType } from '../../events/container-feed.ts';
import { nowNanos } from '../../util/time.ts';
import { containerStatusOf, sandboxStatusOf } from '../cri-status.ts';

function rendered<T>(deps: PodDeps, id: string, render: () => T): T | undefined {
  try {
    return render();
  } catch (err) {
    deps.log.warn({ err, containerId: id }, 'status left out of a container event: it could not be rendered');
    return undefined;
  }
}

export function publish(deps: PodDeps, id: string, type: ContainerEventType): void {
  if (deps.sandboxes.find(id)) publishSandboxEvent(deps, id, type);
  else publishContainerEvent(deps, id, type);
}

function publishSandboxEvent(deps: PodDeps, sandboxId: string, type: ContainerEventType): void {
  const sandbox = deps.sandboxes.find(sandboxId);
  const containers = deps.containers.list().filter((c) => c.sandboxId === sandboxId);
  deps.events.publish({
    container_id: sandboxId,
    container_event_type: type,
    created_at: nowNanos(),
    pod_sandbox_status: (sandbox && rendered(deps, sandboxId, () => sandboxStatusOf(sandbox))) ?? null,
    containers_statuses: containers.flatMap((c) => rendered(deps, c.id, () => containerStatusOf(c)) ?? []),
  });
}

function publishContainerEvent(deps: PodDeps, containerId: string, type: ContainerEventType): void {
  const container = deps.containers.find(containerId);
  const sandbox = container ? deps.sandboxes.find(container.sandboxId) : undefined;
  deps.events.publish({
    container_id: containerId,
    container_event_type: type,
    created_at: nowNanos(),
    pod_sandbox_status: (sandbox && rendered(deps, sandbox.id, () => sandboxStatusOf(sandbox))) ?? null,
    containers_statuses: (container && rendered(deps, containerId, () => [containerStatusOf(container)])) ?? [],
  });
}
