import type { RuntimeConfigResponse } from '../../generated/runtime/v1/RuntimeConfigResponse.ts';
import type { CridConfig } from '../../config/model.ts';
import { cgroupDriver } from '../../runtime/cgroup-driver.ts';

/** The cgroup driver kubelet must match: the one in force for the default handler. */
export function runtimeConfig(config: () => CridConfig) {
  return async (): Promise<RuntimeConfigResponse> => {
    const current = config();
    const handler = current.runtimes[current.default_runtime_name];
    const systemd = handler !== undefined && cgroupDriver(handler) === 'systemd';
    return { linux: { cgroup_driver: systemd ? 'SYSTEMD' : 'CGROUPFS' } };
  };
}
