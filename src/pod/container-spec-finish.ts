// What a container's spec gets beyond what the CRI request says: its handler's base_runtime_spec
// underneath.
import type { RuntimeHandler } from '../config/model.ts';
import { withBaseSpec } from '../oci/base-spec.ts';
import type { Spec } from '../oci/spec-types.ts';

export async function finishContainerSpec(handler: RuntimeHandler, spec: Spec): Promise<Spec> {
  return withBaseSpec(handler.base_runtime_spec, spec);
}
