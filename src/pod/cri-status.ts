// Sandbox and container records as CRI statuses and list summaries: for the status and list
// answers and for the GetContainerEvents feed.
import type { PodSandboxStatus } from '../generated/runtime/v1/PodSandboxStatus.ts';
import type { PodSandbox } from '../generated/runtime/v1/PodSandbox.ts';
import type { SandboxRecord } from '../store/sandbox.ts';
import type { ContainerStatus } from '../generated/runtime/v1/ContainerStatus.ts';
import type { Container } from '../generated/runtime/v1/Container.ts';
import type { ContainerRecord } from '../store/container.ts';
import { Signal, type Signal__Output } from '../generated/runtime/v1/Signal.ts';

export function sandboxStatusOf(s: SandboxRecord): PodSandboxStatus {
  const [ip = '', ...additional] = s.networkDown ? [] : s.ips;
  return {
    id: s.id,
    metadata: s.config.metadata,
    state: s.state,
    created_at: s.createdAt,
    network: { ip, additional_ips: additional.map((a) => ({ ip: a })) },
    linux: { namespaces: { options: s.config.linux?.security_context?.namespace_options ?? null } },
    labels: s.config.labels,
    annotations: s.config.annotations,
    runtime_handler: requestedHandler(s),
  };
}

export function sandboxSummaryOf(s: SandboxRecord): PodSandbox {
  return {
    id: s.id,
    metadata: s.config.metadata,
    state: s.state,
    created_at: s.createdAt,
    labels: s.config.labels,
    annotations: s.config.annotations,
    runtime_handler: requestedHandler(s),
  };
}

function requestedHandler(s: SandboxRecord): string {
  return s.requestedHandler ?? s.runtimeHandler;
}

/** The stop signal as CRI's Signal enum names it; one the enum cannot name is the runtime default. */
function stopSignalOf(c: ContainerRecord): Signal__Output {
  // String(): a record written before requests were checked may hold the number a client sent.
  const upper = String(c.stopSignal).toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  return Object.hasOwn(Signal, name) ? (name as Signal__Output) : 'RUNTIME_DEFAULT';
}

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
    user: c.process
      ? {
          linux: {
            uid: String(c.process.user.uid),
            gid: String(c.process.user.gid),
            supplemental_groups: (c.process.user.additionalGids ?? []).map(String),
          },
        }
      : null,
    stop_signal: stopSignalOf(c),
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
