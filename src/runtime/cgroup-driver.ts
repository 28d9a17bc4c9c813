// The cgroup driver a handler's containers run under: what its shim is told, so that the kubelet
// (RuntimeConfig), `crid explain` and the shim launch all agree.
import type { RuntimeHandler } from '../config/model.ts';
import { shimOptions } from '../config/options.ts';

export type CgroupDriver = 'systemd' | 'cgroupfs';

/** systemd when the options message the shim gets sets systemd_cgroup (a runc v2 or legacy v1 shim). */
export function cgroupDriver(handler: RuntimeHandler): CgroupDriver {
  return shimOptions(handler)?.fields.systemd_cgroup === true ? 'systemd' : 'cgroupfs';
}
