import type { StatusRequest__Output } from '../../generated/runtime/v1/StatusRequest.ts';
import type { StatusResponse } from '../../generated/runtime/v1/StatusResponse.ts';
import type { RuntimeHandler } from '../../generated/runtime/v1/RuntimeHandler.ts';
import type { CridConfig } from '../../config/model.ts';
import type { CheckResult } from '../../handler-health/self-check.ts';
import { containerdShapedConfig } from './containerd-info.ts';
import type { HostFacts } from '../../oci/host.ts';
import { cgroupDriver } from '../../runtime/cgroup-driver.ts';

export interface NetworkReadiness {
  ready: boolean;
  reason: string;
  message: string;
}

export interface StatusDeps {
  config: () => CridConfig;
  networkStatus: () => Promise<NetworkReadiness>;
  /** The latest self-check result per handler (verbose info). */
  handlerChecks: () => CheckResult[];
  /** Why a handler may not serve pods (its last shallow or deep check failed), if it may not. */
  handlerFailure: (handler: string) => string | undefined;
  host: Pick<HostFacts, 'apparmor' | 'selinuxEnabled'>;
}

/** What the host's security modules mean for pods, in words (verbose info). */
function securityInfo(host: StatusDeps['host']): Record<string, string> {
  const { apparmor } = host;
  return {
    apparmor: apparmor.enabled
      ? `RuntimeDefault runs under profile ${apparmor.defaultProfile}`
      : 'not enabled on this host: RuntimeDefault runs unconfined',
    selinux: host.selinuxEnabled
      ? 'enabled on this host: crid cannot label containers and refuses pods that ask for labels'
      : 'not enabled on this host',
  };
}

/**
 * kubelet takes every listed handler as usable, so only handlers that passed their last self-check
 * are listed; the failing ones and their reasons are in the verbose info.
 */
function handlerList(config: CridConfig, failed: Map<string, string>): RuntimeHandler[] {
  // runc 1.1 has no recursive read-only mounts and crid does not map user namespaces yet.
  const features = { recursive_read_only_mounts: false, user_namespaces: false };
  const working = Object.keys(config.runtimes)
    .filter((name) => !failed.has(name))
    .sort()
    .map((name) => ({ name, features }));
  // containerd also lists the default handler under the empty name kubelet sends for it.
  return failed.has(config.default_runtime_name) ? working : [{ name: '', features }, ...working];
}

export function status(deps: StatusDeps) {
  return async (req: StatusRequest__Output): Promise<StatusResponse> => {
    const config = deps.config();
    const checks = deps.handlerChecks();
    const failed = new Map<string, string>();
    for (const name of Object.keys(config.runtimes)) {
      const reason = deps.handlerFailure(name);
      if (reason !== undefined) failed.set(name, reason);
    }
    const defaultFailure = failed.get(config.default_runtime_name);
    const network = await deps.networkStatus();
    const info: Record<string, string> = {};
    if (req.verbose) {
      info.config = JSON.stringify(containerdShapedConfig(config));
      info.cridConfig = JSON.stringify(config);
      info.handlers = JSON.stringify(checks);
      info.cgroupDrivers = JSON.stringify(
        Object.fromEntries(Object.values(config.runtimes).map((h) => [h.name, cgroupDriver(h)])),
      );
      info.security = JSON.stringify(securityInfo(deps.host));
    }
    return {
      status: {
        conditions: [
          defaultFailure === undefined
            ? { type: 'RuntimeReady', status: true, reason: '', message: '' }
            : {
                type: 'RuntimeReady',
                status: false,
                reason: 'DefaultHandlerFailed',
                message: `default runtime handler "${config.default_runtime_name}": ${defaultFailure}`,
              },
          { type: 'NetworkReady', status: network.ready, reason: network.reason, message: network.message },
        ],
      },
      runtime_handlers: handlerList(config, failed),
      features: { supplemental_groups_policy: false, user_namespaces_host_network: false },
      info,
    };
  };
}
