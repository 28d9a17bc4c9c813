// Gathers what buildContainerSpec needs from the host and the pod: device nodes, the pod's shared
// files, the target container's pid, the rootfs' users.
import path from 'node:path';
import { invalidArgument } from '../../errors.ts';
import type { ContainerConfig__Output } from '../../generated/runtime/v1/ContainerConfig.ts';
import { listHostDevices, statDevice, type HostDevice } from '../../oci/devices.ts';
import type { SandboxFiles } from '../../oci/sandbox-spec.ts';
import { sandboxNamespaceModes } from '../../oci/sandbox-spec.ts';
import type { SandboxRecord } from '../../store/sandbox.ts';
import { sandboxDir, sandboxShmDir, type PodDeps } from '../deps.ts';

/** The requested devices by host_path; paths that are not device nodes are left out (the builder names them). */
export async function requestedDevices(config: ContainerConfig__Output): Promise<Record<string, HostDevice>> {
  const found: Record<string, HostDevice> = {};
  for (const d of config.devices ?? []) {
    const device = d.host_path ? await statDevice(d.host_path).catch(() => undefined) : undefined;
    if (device) found[d.host_path] = device;
  }
  return found;
}

export async function hostDevicesFor(config: ContainerConfig__Output): Promise<HostDevice[]> {
  return config.linux?.security_context?.privileged ? listHostDevices() : [];
}

/** The pod's hostname, hosts and resolv.conf files and its /dev/shm (the host's for host IPC). */
export function podSharedFiles(deps: PodDeps, sandbox: SandboxRecord): SandboxFiles {
  const dir = sandboxDir(deps.config(), sandbox.id);
  const ns = sandboxNamespaceModes(sandbox.config.linux?.security_context?.namespace_options ?? null);
  return {
    hostname: path.join(dir, 'hostname'),
    hosts: path.join(dir, 'hosts'),
    resolvConf: path.join(dir, 'resolv.conf'),
    devShm: ns.ipc === 'NODE' ? '/dev/shm' : sandboxShmDir(deps, sandbox.id),
  };
}

/** The pid of the running container a TARGET pid namespace joins. */
export function targetPid(deps: PodDeps, config: ContainerConfig__Output, sandboxId: string): number | undefined {
  const targetId = config.linux?.security_context?.namespace_options?.target_id;
  if (!targetId) return undefined;
  const target = deps.containers.find(targetId);
  if (!target || target.sandboxId !== sandboxId) {
    throw invalidArgument(
      `container config: namespace_options.target_id "${targetId}" is not a container of pod ${sandboxId}`,
    );
  }
  return target.pid || undefined;
}
