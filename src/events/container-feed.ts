// The GetContainerEvents feed: every lifecycle change of a container or sandbox, to every subscriber.
import type { ContainerEventResponse } from '../generated/runtime/v1/ContainerEventResponse.ts';

export type ContainerEventType =
  | 'CONTAINER_CREATED_EVENT'
  | 'CONTAINER_STARTED_EVENT'
  | 'CONTAINER_STOPPED_EVENT'
  | 'CONTAINER_DELETED_EVENT';

export class ContainerEvents {
  private readonly subscribers = new Set<(event: ContainerEventResponse) => void>();

  subscribe(listener: (event: ContainerEventResponse) => void): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }

  publish(event: ContainerEventResponse): void {
    for (const listener of this.subscribers) listener(event);
  }
}
