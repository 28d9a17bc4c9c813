import type { VersionResponse } from '../../generated/runtime/v1/VersionResponse.ts';
import { CRI_API_VERSION, CRID_VERSION } from '../../version.ts';

/** The kubelet-facing API version CRI runtimes report in VersionResponse.version. */
const KUBELET_API_VERSION = '0.1.0';

export async function version(): Promise<VersionResponse> {
  return {
    version: KUBELET_API_VERSION,
    runtime_name: 'crid',
    runtime_version: CRID_VERSION,
    runtime_api_version: CRI_API_VERSION,
  };
}
