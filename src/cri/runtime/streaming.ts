// Exec, Attach and PortForward: validate the target, then hand out a one-time URL on crid's
// streaming server, where the client speaks SPDY or WebSocket.
import type { ExecRequest__Output } from '../../generated/runtime/v1/ExecRequest.ts';
import type { ExecResponse } from '../../generated/runtime/v1/ExecResponse.ts';
import type { AttachRequest__Output } from '../../generated/runtime/v1/AttachRequest.ts';
import type { AttachResponse } from '../../generated/runtime/v1/AttachResponse.ts';
import type { PortForwardRequest__Output } from '../../generated/runtime/v1/PortForwardRequest.ts';
import type { PortForwardResponse } from '../../generated/runtime/v1/PortForwardResponse.ts';
import { failedPrecondition, invalidArgument } from '../../errors.ts';
import type { PodDeps } from '../../pod/deps.ts';
import type { RpcTable } from '../../server/rpc.ts';
import type { StreamingServer } from '../../streaming/server.ts';

function runningContainer(deps: PodDeps, id: string) {
  if (!id) throw invalidArgument('container_id is required');
  const container = deps.containers.get(id);
  if (container.state !== 'CONTAINER_RUNNING') {
    throw failedPrecondition(`container ${container.id} is not running (${container.state})`);
  }
  return container;
}

export function streamingRpcs(deps: PodDeps, server: StreamingServer): RpcTable {
  return {
    Exec: async (req: ExecRequest__Output): Promise<ExecResponse> => {
      if (req.cmd.length === 0) throw invalidArgument('cmd must not be empty');
      const container = runningContainer(deps, req.container_id);
      return server.getExec({ ...req, container_id: container.id });
    },
    Attach: async (req: AttachRequest__Output): Promise<AttachResponse> => {
      const container = runningContainer(deps, req.container_id);
      return server.getAttach({ ...req, container_id: container.id });
    },
    PortForward: async (req: PortForwardRequest__Output): Promise<PortForwardResponse> => {
      if (!req.pod_sandbox_id) throw invalidArgument('pod_sandbox_id is required');
      const sandbox = deps.sandboxes.get(req.pod_sandbox_id);
      if (sandbox.state !== 'SANDBOX_READY') throw failedPrecondition(`pod sandbox ${sandbox.id} is not ready`);
      for (const port of req.port) {
        if (!Number.isInteger(port) || port < 1 || port > 65535)
          throw invalidArgument(`port ${port} is not a TCP port`);
      }
      return server.getPortForward({ ...req, pod_sandbox_id: sandbox.id });
    },
  };
}
