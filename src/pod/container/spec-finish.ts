// What a container's spec gets beyond what the CRI request says: its handler's base_runtime_spec
// underneath, the edits of the CDI devices it asks for on top; and its AppArmor profile loaded.
import { requestedCdiDevices } from '../../cdi/cdi-requests.ts';
import { applyCdiDevices } from '../../cdi/cdi-edits.ts';
import type { RuntimeHandler } from '../../config/model.ts';
import { failedPrecondition } from '../../errors.ts';
import type { ContainerConfig__Output } from '../../generated/runtime/v1/ContainerConfig.ts';
import { withBaseSpec } from '../../oci/base-spec.ts';
import { ensureProfileLoaded } from '../../oci/apparmor-profile.ts';
import type { Spec } from '../../oci/spec-types.ts';
import type { PodDeps } from '../deps.ts';

export async function finishContainerSpec(
  deps: PodDeps,
  handler: RuntimeHandler,
  config: ContainerConfig__Output,
  built: Spec,
): Promise<Spec> {
  if (built.process.apparmorProfile) await ensureProfileLoaded(built.process.apparmorProfile, deps.host.apparmor);
  const spec = await withBaseSpec(handler.base_runtime_spec, built);
  const requested = requestedCdiDevices(config);
  if (requested.length === 0) return spec;
  const cfg = deps.config();
  // A device the pod counts on must not be left out quietly.
  if (!cfg.enable_cdi)
    throw failedPrecondition(`the container asks for CDI devices (${requested.join(', ')}) but enable_cdi is off`);
  return applyCdiDevices(spec, await deps.cdi.resolve(cfg.cdi_spec_dirs, requested));
}
