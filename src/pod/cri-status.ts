import type { PodSandboxStatus } from '../generated/runtime/v1/PodSandboxStatus.ts';
import type { PodSandbox } from '../generated/runtime/v1/PodSandbox.ts';
import type { SandboxRecord } from '../store/sandbox.ts';

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
