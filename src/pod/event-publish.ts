// Builds GetContainerEvents messages from the stores.
import type { PodDeps } from './deps.ts';
import type { ContainerEventType } from './container-events.ts';
import { nowNanos } from '../util/time.ts';
import { sandboxStatusOf } from './sandbox-status.ts';
import { containerStatusOf } from './container-status.ts';

export function publishSandboxEvent(deps: PodDeps, sandboxId: string, type: ContainerEventType): void {
  const sandbox = deps.sandboxes.find(sandboxId);
  deps.events.publish({
    container_id: sandboxId,
    container_event_type: type,
    created_at: nowNanos(),
    pod_sandbox_status: sandbox ? sandboxStatusOf(sandbox) : null,
    containers_statuses: deps.containers.list().filter((c) => c.sandboxId === sandboxId).map(containerStatusOf),
  });
}

export function publishContainerEvent(deps: PodDeps, containerId: string, type: ContainerEventType): void {
  const container = deps.containers.find(containerId);
  const sandbox = container ? deps.sandboxes.find(container.sandboxId) : undefined;
  deps.events.publish({
    container_id: containerId,
    container_event_type: type,
    created_at: nowNanos(),
    pod_sandbox_status: sandbox ? sandboxStatusOf(sandbox) : null,
    containers_statuses: container ? [containerStatusOf(container)] : [],
  });
}
