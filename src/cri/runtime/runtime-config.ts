import type { RuntimeConfigResponse } from '../../generated/runtime/v1/RuntimeConfigResponse.ts';
import type { CridConfig } from '../../config/model.ts';

/** The cgroup driver kubelet must match: systemd when the default handler asks for SystemdCgroup. */
export function runtimeConfig(config: () => CridConfig) {
  return async (): Promise<RuntimeConfigResponse> => {
    const current = config();
    const handler = current.runtimes[current.default_runtime_name];
    const systemd = handler?.options.SystemdCgroup === true;
    return { linux: { cgroup_driver: systemd ? 'SYSTEMD' : 'CGROUPFS' } };
  };
}
