import type { ContainerStatus } from '../generated/runtime/v1/ContainerStatus.ts';
import type { Container } from '../generated/runtime/v1/Container.ts';
import type { ContainerRecord } from '../store/container.ts';

export function containerStatusOf(c: ContainerRecord): ContainerStatus {
  return {
    id: c.id,
    metadata: c.config.metadata,
    state: c.state,
    created_at: c.createdAt,
    started_at: c.startedAt,
    finished_at: c.finishedAt,
    exit_code: c.exitCode,
    image: { image: c.imageName, annotations: c.config.image?.annotations ?? {} },
    image_ref: c.imageRef,
    image_id: c.imageId,
    reason: c.reason,
    message: c.message,
    labels: c.config.labels,
    annotations: c.config.annotations,
    mounts: c.config.mounts,
    log_path: c.logPath,
    resources: c.config.linux?.resources ? { linux: c.config.linux.resources } : null,
  };
}

export function containerSummaryOf(c: ContainerRecord): Container {
  return {
    id: c.id,
    pod_sandbox_id: c.sandboxId,
    metadata: c.config.metadata,
    image: { image: c.imageName, annotations: c.config.image?.annotations ?? {} },
    image_ref: c.imageRef,
    image_id: c.imageId,
    state: c.state,
    created_at: c.createdAt,
    labels: c.config.labels,
    annotations: c.config.annotations,
  };
}
