// RuntimeClass handler → configured runtime, as containerd's CRI resolves them (the shim binary is
// runtime/shim-binary.ts's).
import type { CridConfig, RuntimeHandler } from './model.ts';
import { invalidArgument } from '../errors.ts';

export const UNTRUSTED_WORKLOAD_ANNOTATION = 'io.kubernetes.cri.untrusted-workload';
export const UNTRUSTED_HANDLER = 'untrusted';

/** `""` → the default handler; an unknown name → InvalidArgument naming what is configured. */
export function resolveHandler(config: CridConfig, name: string): RuntimeHandler {
  const effective = name === '' ? config.default_runtime_name : name;
  const handler = Object.hasOwn(config.runtimes, effective) ? config.runtimes[effective] : undefined;
  if (handler === undefined) {
    const names = Object.keys(config.runtimes).sort().join(', ');
    throw invalidArgument(
      `no runtime for "${effective}" is configured (configured handlers: ${names}; default: ${config.default_runtime_name})`,
    );
  }
  return handler;
}

export interface PodHostAccess {
  hostNetwork: boolean;
  hostPid: boolean;
  hostIpc: boolean;
}

/**
 * containerd's untrusted-workload rule: a pod annotated `io.kubernetes.cri.untrusted-workload: "true"`
 * runs on handler "untrusted", must not name another handler and must not share host namespaces.
 * Returns the handler name to resolve.
 */
export function podHandlerName(requested: string, annotations: Record<string, string>, host: PodHostAccess): string {
  if (annotations[UNTRUSTED_WORKLOAD_ANNOTATION] !== 'true') return requested;
  if (requested !== '' && requested !== UNTRUSTED_HANDLER) {
    throw invalidArgument('untrusted workload with explicit runtime handler is not allowed');
  }
  if (host.hostNetwork || host.hostPid || host.hostIpc) {
    throw invalidArgument('untrusted workload with host access is not allowed');
  }
  return UNTRUSTED_HANDLER;
}
