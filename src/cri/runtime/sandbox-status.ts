import type { PodSandboxStatusRequest__Output } from '../../generated/runtime/v1/PodSandboxStatusRequest.ts';
import type { PodSandboxStatusResponse } from '../../generated/runtime/v1/PodSandboxStatusResponse.ts';
import { invalidArgument } from '../../errors.ts';
import { visibleSandbox, type PodDeps } from '../../pod/deps.ts';
import { sandboxStatusOf } from '../../pod/cri-status.ts';
import { nowNanos } from '../../util/time.ts';

export function podSandboxStatus(deps: PodDeps) {
  return async (req: PodSandboxStatusRequest__Output): Promise<PodSandboxStatusResponse> => {
    if (!req.pod_sandbox_id) throw invalidArgument('pod_sandbox_id is required');
    const sandbox = visibleSandbox(deps, req.pod_sandbox_id);
    const info: Record<string, string> = {};
    if (req.verbose) {
      info.info = JSON.stringify({
        pid: sandbox.pid,
        shimPid: sandbox.shimPid,
        runtimeHandler: sandbox.runtimeHandler,
        runtimeType: sandbox.handler.runtime_type,
        runtimeOptions: sandbox.handler.options,
        handler: sandbox.handler,
        netnsPath: sandbox.netnsPath,
        bundle: sandbox.bundle,
        image: sandbox.imageRef,
        config: sandbox.config,
      });
    }
    return { status: sandboxStatusOf(sandbox), info, containers_statuses: [], timestamp: nowNanos() };
  };
}
