// The OCI runtime spec of a container in a pod (containerd: container_create.go buildLinuxSpec and
// container_create_linux.go).
import { invalidArgument } from '../errors.ts';
import type { RuntimeHandler } from '../config/model.ts';
import type { ContainerConfig__Output } from '../generated/runtime/v1/ContainerConfig.ts';
import type { LinuxContainerSecurityContext__Output } from '../generated/runtime/v1/LinuxContainerSecurityContext.ts';
import type { PodSandboxConfig__Output } from '../generated/runtime/v1/PodSandboxConfig.ts';
import { containerCriAnnotations, passthroughAnnotations } from './annotations.ts';
import { apparmorProfileFor } from './apparmor.ts';
import { checkSelinuxLabels } from './selinux.ts';
import { applyCapabilityRequest, capabilitySet, DEFAULT_CAPABILITIES } from './capabilities.ts';
import { enumValue, quote } from './cri-values.ts';
import { ALLOW_ALL_DEVICES, DENY_ALL_DEVICES, deviceRule, type HostDevice, specDevice } from './devices.ts';
import { cgroupsPath, type HostFacts } from './host.ts';
import {
  bindMount,
  criMounts,
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
  cgroupMount,
  defaultMounts,
  isMounted,
  mergeMounts,
} from './mounts.ts';
import { containerArgs, criEnv, DEFAULT_PATH_ENV, mergeEnv, workingDir } from './process.ts';
import { containerResources, oomScoreAdj, requestedOomScoreAdj } from './resources.ts';
import {
  checkUserNamespace,
  NAMESPACE_MODES,
  sandboxNamespaceModes,
  type SandboxFiles,
  type SandboxNamespaceModes,
} from './sandbox-spec.ts';
import { requestedProfile, seccompFor, type ReadProfileFile } from './seccomp.ts';
import {
  type Device,
  type DeviceCgroup,
  type ImageConfig,
  type Mount,
  type Namespace,
  OCI_VERSION,
  type Spec,
} from './spec-types.ts';
import { resolveProcessUser, type UserFiles } from './user.ts';

export interface ContainerSpecInput {
  config: ContainerConfig__Output;
  containerId: string;
  sandboxId: string;
  sandboxConfig: PodSandboxConfig__Output;
  /** pid of the sandbox's pause process: its ipc/uts/pid namespaces are joined via /proc/<pid>/ns. */
  sandboxPid: number;
  /** The pod's network namespace file; ignored for host network. */
  netnsPath?: string;
  /** pid of the target container for a TARGET pid namespace. */
  targetPid?: number;
  /** The image reference for the image-name annotation. */
  imageName: string;
  imageConfig: ImageConfig;
  /** The container rootfs' /etc/passwd and /etc/group. */
  userFiles: UserFiles;
  /** The pod's hostname/hosts/resolv.conf files and /dev/shm, mounted unless the config mounts its own. */
  sandboxFiles: SandboxFiles;
  handler: RuntimeHandler;
  host: HostFacts;
  /** The devices the config asks for, looked up by host_path (see `statDevice`). */
  devices: Record<string, HostDevice>;
  /** Every host device, for privileged containers (see `listHostDevices`). */
  hostDevices: HostDevice[];
  restrictOomScoreAdj: boolean;
  readSeccompProfile?: ReadProfileFile;
}

const FIELD = 'container config';
const SC = `${FIELD}: linux.security_context`;

export function buildContainerSpec(input: ContainerSpecInput): Spec {
  const { config, host } = input;
  const name = config.metadata?.name;
  if (!name) throw invalidArgument(`${FIELD}: metadata.name is required`);
  const security = config.linux?.security_context ?? null;
  const privileged = security?.privileged ?? false;
  if (privileged && !input.sandboxConfig.linux?.security_context?.privileged) {
    throw invalidArgument(`${SC}.privileged: a privileged container needs a privileged pod`);
  }
  const podNs = sandboxNamespaceModes(input.sandboxConfig.linux?.security_context?.namespace_options ?? null);
  const capabilities = privileged
    ? [...host.capabilities]
    : applyCapabilityRequest(security?.capabilities, DEFAULT_CAPABILITIES, host.capabilities, `${SC}.capabilities`);
  const { mounts, rootfsPropagation } = containerMounts(input, privileged);
  const resources = config.linux?.resources ?? null;
  const requestedOom = requestedOomScoreAdj(resources, `${FIELD}: linux.resources`);
  const seccomp = seccompFor(
    requestedProfile(security?.seccomp, security?.seccomp_profile_path ?? '', `${SC}.seccomp`),
    {
      privileged,
      capabilities,
      arch: host.arch,
      field: `${SC}.seccomp`,
      readFile: input.readSeccompProfile,
    },
  );
  const apparmorProfile = apparmorProfileFor(
    requestedProfile(security?.apparmor, security?.apparmor_profile ?? '', `${SC}.apparmor`),
    privileged,
    host.apparmor,
    `${SC}.apparmor`,
  );
  const devices = containerDevices(input, privileged);
  checkSelinuxLabels(security?.selinux_options, host.selinuxEnabled, SC);
  return {
    ociVersion: OCI_VERSION,
    process: {
      ...(config.tty && { terminal: true }),
      user: resolveProcessUser(
        {
          username: security?.run_as_username ?? '',
          uid: security?.run_as_user?.value,
          gid: security?.run_as_group?.value,
          supplementalGroups: security?.supplemental_groups ?? [],
          strict:
            enumValue(security?.supplemental_groups_policy, ['Merge', 'Strict'], `${SC}.supplemental_groups_policy`) ===
            'Strict',
          imageUser: input.imageConfig.User ?? '',
          field: SC,
        },
        input.userFiles,
      ),
      args: containerArgs(config.command ?? [], config.args ?? [], input.imageConfig, `${FIELD}: command/args`),
      env: containerEnv(input, podNs),
      cwd: workingDir(config.working_dir ?? '', input.imageConfig, `${FIELD}: working_dir`),
      capabilities: capabilitySet(capabilities),
      noNewPrivileges: security?.no_new_privs ?? false,
      ...(apparmorProfile && { apparmorProfile }),
      ...(requestedOom !== undefined && {
        oomScoreAdj: oomScoreAdj(requestedOom, input.restrictOomScoreAdj, host.oomScoreAdj),
      }),
    },
    root: { path: 'rootfs', readonly: security?.readonly_rootfs ?? false },
    mounts,
    annotations: {
      ...passthroughAnnotations(input.sandboxConfig.annotations, input.handler.pod_annotations),
      ...passthroughAnnotations(config.annotations, input.handler.container_annotations),
      ...containerCriAnnotations(input.sandboxId, input.sandboxConfig, name, input.imageName),
    },
    linux: {
      namespaces: containerNamespaces(input, podNs, security, privileged),
      resources: { devices: devices.rules, ...containerResources(resources, host, `${FIELD}: linux.resources`) },
      cgroupsPath: cgroupsPath(input.sandboxConfig.linux?.cgroup_parent || host.defaultCgroupParent, input.containerId),
      ...(devices.nodes.length > 0 && { devices: devices.nodes }),
      ...(seccomp && { seccomp }),
      ...(rootfsPropagation && { rootfsPropagation }),
      maskedPaths: privileged ? [] : pathList(security?.masked_paths, DEFAULT_MASKED_PATHS, `${SC}.masked_paths`),
      readonlyPaths: privileged
        ? []
        : pathList(security?.readonly_paths, DEFAULT_READONLY_PATHS, `${SC}.readonly_paths`),
    },
  };
}

/** PATH, HOSTNAME (the pod's), TERM for a tty, the image's env, then the config's; later wins by key. */
function containerEnv(input: ContainerSpecInput, podNs: SandboxNamespaceModes): string[] {
  const podHostname = podNs.network === 'NODE' ? '' : input.sandboxConfig.hostname;
  const base = [
    DEFAULT_PATH_ENV,
    ...(input.config.tty ? ['TERM=xterm'] : []),
    `HOSTNAME=${podHostname || input.host.hostname}`,
  ];
  return mergeEnv(base, [...(input.imageConfig.Env ?? []), ...criEnv(input.config.envs ?? [], `${FIELD}: envs`)]);
}

/**
 * Joins the pod's network (its netns file), ipc and uts (the pause process'); the pid namespace per
 * the container's option: POD → the pause process', TARGET → the target container's, CONTAINER → new,
 * NODE → the host's. A cgroup namespace of its own on cgroup v2 unless privileged, as containerd.
 */
function containerNamespaces(
  input: ContainerSpecInput,
  podNs: SandboxNamespaceModes,
  security: LinuxContainerSecurityContext__Output | null,
  privileged: boolean,
): Namespace[] {
  const field = `${SC}.namespace_options`;
  const options = security?.namespace_options ?? null;
  checkUserNamespace(options, field);
  const pid = enumValue(options?.pid, NAMESPACE_MODES, `${field}.pid`);
  const proc = (ns: string, pidOf: number | undefined, what: string) => {
    if (!pidOf || !Number.isInteger(pidOf) || pidOf <= 0)
      throw invalidArgument(`${field}: ${what} has no running process to join`);
    return `/proc/${pidOf}/ns/${ns}`;
  };
  const namespaces: Namespace[] = [{ type: 'mount' }];
  if (podNs.network !== 'NODE') {
    namespaces.push({ type: 'network', path: input.netnsPath || proc('net', input.sandboxPid, 'the sandbox') });
    namespaces.push({ type: 'uts', path: proc('uts', input.sandboxPid, 'the sandbox') });
  }
  if (podNs.ipc !== 'NODE') namespaces.push({ type: 'ipc', path: proc('ipc', input.sandboxPid, 'the sandbox') });
  if (pid === 'POD' && podNs.pid !== 'NODE')
    namespaces.push({ type: 'pid', path: proc('pid', input.sandboxPid, 'the sandbox') });
  if (pid === 'TARGET') {
    if (!options?.target_id) throw invalidArgument(`${field}.target_id is required for a TARGET pid namespace`);
    namespaces.push({
      type: 'pid',
      path: proc('pid', input.targetPid, `target container ${quote(options.target_id)}`),
    });
  }
  if (pid === 'CONTAINER') namespaces.push({ type: 'pid' });
  if (input.host.cgroupV2 && !privileged) namespaces.push({ type: 'cgroup' });
  return namespaces;
}

/** Default filesystems, the pod's shared files unless mounted by the config, then the config's mounts. */
function containerMounts(
  input: ContainerSpecInput,
  privileged: boolean,
): { mounts: Mount[]; rootfsPropagation?: string } {
  const requested = input.config.mounts ?? [];
  const { mounts, rootfsPropagation } = criMounts(requested, `${FIELD}: mounts`);
  const readonly = input.config.linux?.security_context?.readonly_rootfs ?? false;
  const files = input.sandboxFiles;
  const shared: Mount[] = [];
  const share = (source: string | undefined, destination: string, ro: boolean) => {
    if (source && !isMounted(requested, destination)) shared.push(bindMount(source, destination, ro));
  };
  share(files.hostname, '/etc/hostname', readonly);
  share(files.hosts, '/etc/hosts', readonly);
  share(files.resolvConf, '/etc/resolv.conf', readonly);
  share(files.devShm, '/dev/shm', false);
  return {
    mounts: mergeMounts([...defaultMounts(privileged), cgroupMount(privileged)], [...shared, ...mounts]),
    rootfsPropagation,
  };
}

/**
 * Device nodes and cgroup rules: deny all, then the requested devices; a privileged container gets
 * every host device and may use any, unless the handler says privileged_without_host_devices.
 */
function containerDevices(input: ContainerSpecInput, privileged: boolean): { nodes: Device[]; rules: DeviceCgroup[] } {
  const nodes: Device[] = [];
  const rules: DeviceCgroup[] = [DENY_ALL_DEVICES];
  (input.config.devices ?? []).forEach((d, i) => {
    const field = `${FIELD}: devices[${i}]`;
    const device = input.devices[d.host_path];
    if (!device)
      throw invalidArgument(`${field}.host_path ${quote(d.host_path ?? '')} is not a device node on this host`);
    const containerPath = d.container_path || d.host_path;
    if (!containerPath.startsWith('/'))
      throw invalidArgument(`${field}.container_path ${quote(containerPath)} must be an absolute path`);
    const access = d.permissions || 'rwm';
    if (!/^[rwm]{1,3}$/.test(access))
      throw invalidArgument(`${field}.permissions ${quote(access)}: expected letters of "rwm"`);
    nodes.push(specDevice(device, containerPath));
    rules.push(deviceRule(device, access));
  });
  if (!privileged) return { nodes, rules };
  const handler = input.handler;
  if (!handler.privileged_without_host_devices) {
    const taken = new Set(nodes.map((n) => n.path));
    nodes.push(...input.hostDevices.filter((d) => !taken.has(d.path)).map((d) => specDevice(d, d.path)));
    return { nodes, rules: [ALLOW_ALL_DEVICES] };
  }
  return { nodes, rules: handler.privileged_without_host_devices_all_devices_allowed ? [ALLOW_ALL_DEVICES] : rules };
}

/** The request's list when it gives one, else the defaults; every entry an absolute path. */
function pathList(
  requested: readonly string[] | null | undefined,
  defaults: readonly string[],
  field: string,
): string[] {
  const list = requested && requested.length > 0 ? [...requested] : [...defaults];
  list.forEach((p, i) => {
    if (!p.startsWith('/') || p.includes('\0'))
      throw invalidArgument(`${field}[${i}] ${quote(p)} must be an absolute path`);
  });
  return list;
}
