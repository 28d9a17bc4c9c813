import type { StatusRequest__Output } from '../../generated/runtime/v1/StatusRequest.ts';
import type { StatusResponse } from '../../generated/runtime/v1/StatusResponse.ts';
import type { RuntimeHandler } from '../../generated/runtime/v1/RuntimeHandler.ts';
import type { CridConfig } from '../../config/model.ts';

export interface NetworkReadiness {
  ready: boolean;
  reason: string;
  message: string;
}

export interface StatusDeps {
  config: () => CridConfig;
  networkStatus: () => Promise<NetworkReadiness>;
}

function handlerList(config: CridConfig): RuntimeHandler[] {
  // runc 1.1 has no recursive read-only mounts and crid does not map user namespaces yet.
  const features = { recursive_read_only_mounts: false, user_namespaces: false };
  const named = Object.keys(config.runtimes)
    .sort()
    .map((name) => ({ name, features }));
  // containerd also lists the default handler under the empty name kubelet sends for it.
  return [{ name: '', features }, ...named];
}

export function status(deps: StatusDeps) {
  return async (req: StatusRequest__Output): Promise<StatusResponse> => {
    const config = deps.config();
    const network = await deps.networkStatus();
    const info: Record<string, string> = {};
    if (req.verbose) info.config = JSON.stringify(config);
    return {
      status: {
        conditions: [
          { type: 'RuntimeReady', status: true, reason: '', message: '' },
          { type: 'NetworkReady', status: network.ready, reason: network.reason, message: network.message },
        ],
      },
      runtime_handlers: handlerList(config),
      features: { supplemental_groups_policy: false, user_namespaces_host_network: false },
      info,
    };
  };
}
