// The CDI devices a container asks for: its CDI_devices, then the devices listed in its
// `cdi.k8s.io/<name>` annotations (comma-separated qualified names), each once, as containerd reads them.
import { invalidArgument } from '../errors.ts';
import type { ContainerConfig__Output } from '../generated/runtime/v1/ContainerConfig.ts';
import { parseQualifiedName } from './cdi-spec.ts';

export const CDI_ANNOTATION_PREFIX = 'cdi.k8s.io/';

export function requestedCdiDevices(config: ContainerConfig__Output): string[] {
  const names = (config.CDI_devices ?? []).map((d) => d.name);
  for (const [key, value] of Object.entries(config.annotations ?? {})) {
    if (!key.startsWith(CDI_ANNOTATION_PREFIX)) continue;
    for (const name of value.split(',').map((n) => n.trim())) {
      if (!parseQualifiedName(name))
        throw invalidArgument(
          `container config: annotation ${key}: ${JSON.stringify(name)} is not a qualified CDI device name (vendor.com/class=name)`,
        );
      names.push(name);
    }
  }
  return [...new Set(names)];
}
