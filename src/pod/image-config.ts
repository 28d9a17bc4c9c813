import type { ImageConfigSummary } from '../image/image-store.ts';
import type { ImageConfig } from '../oci/spec-types.ts';

/** The image config fields the OCI spec builders read, in the image config's own key names. */
export function imageConfigForSpec(summary: ImageConfigSummary): ImageConfig {
  return {
    Entrypoint: summary.entrypoint,
    Cmd: summary.cmd,
    Env: summary.env,
    User: summary.user,
    WorkingDir: summary.workingDir,
  };
}
