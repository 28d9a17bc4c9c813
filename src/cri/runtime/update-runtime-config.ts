import type { UpdateRuntimeConfigRequest__Output } from '../../generated/runtime/v1/UpdateRuntimeConfigRequest.ts';
import type { UpdateRuntimeConfigResponse } from '../../generated/runtime/v1/UpdateRuntimeConfigResponse.ts';
import type { Logger } from '../../log.ts';
import { invalidArgument } from '../../errors.ts';

export interface PodCidrHolder {
  podCidr: string;
}

const CIDR = /^[0-9a-fA-F.:]+\/\d{1,3}$/;

/** Stores the pod CIDR kubelet hands down (used by CNI configs that template it). */
export function updateRuntimeConfig(holder: PodCidrHolder, log: Logger) {
  return async (req: UpdateRuntimeConfigRequest__Output): Promise<UpdateRuntimeConfigResponse> => {
    const cidr = req.runtime_config?.network_config?.pod_cidr ?? '';
    if (cidr === '') return {};
    const first = cidr.split(',')[0]!.trim();
    if (!CIDR.test(first))
      throw invalidArgument(
        `runtime_config.network_config.pod_cidr: ${JSON.stringify(cidr.slice(0, 100))} is not a CIDR`,
      );
    if (holder.podCidr !== cidr) log.info({ podCidr: cidr }, 'pod CIDR updated');
    holder.podCidr = cidr;
    return {};
  };
}
