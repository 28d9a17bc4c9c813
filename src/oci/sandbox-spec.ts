// The OCI runtime spec of a pod sandbox's pause container (containerd: podsandbox/sandbox_run_linux.go).
import { invalidArgument } from '../errors.ts';
import type { RuntimeHandler } from '../config/model.ts';
import type { NamespaceOption__Output } from '../generated/runtime/v1/NamespaceOption.ts';
import type { PodSandboxConfig__Output } from '../generated/runtime/v1/PodSandboxConfig.ts';
import { passthroughAnnotations, sandboxCriAnnotations, sandboxSizingAnnotations } from './annotations.ts';
import { capabilitySet, DEFAULT_CAPABILITIES } from './capabilities.ts';
import { enumValue, linuxId, quote } from './cri-values.ts';
import { DENY_ALL_DEVICES } from './devices.ts';
import { cgroupsPath, type HostFacts } from './host.ts';
import { bindMount, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, defaultMounts, mergeMounts } from './mounts.ts';
import { checkArgv, DEFAULT_PATH_ENV, mergeEnv } from './process.ts';
import { oomScoreAdj, SANDBOX_CPU_SHARES, SANDBOX_OOM_SCORE_ADJ } from './resources.ts';
import { requestedProfile, seccompFor, type ReadProfileFile } from './seccomp.ts';
import { checkSelinuxLabels } from './selinux.ts';
import { type ImageConfig, type Mount, type Namespace, OCI_VERSION, type Spec } from './spec-types.ts';
import { mergeGids, resolveUserString, type UserFiles } from './user.ts';

export const NAMESPACE_MODES = ['POD', 'CONTAINER', 'NODE', 'TARGET'] as const;
export type NamespaceMode = (typeof NAMESPACE_MODES)[number];

/** Files the pod shares with its containers, bind-mounted read-only into the pause container. */
export interface SandboxFiles {
  hostname?: string;
  hosts?: string;
  resolvConf?: string;
  /** The pod's /dev/shm (a tmpfs crid mounted), or the host's /dev/shm for host IPC. */
  devShm?: string;
}

export interface SandboxSpecInput {
  config: PodSandboxConfig__Output;
  sandboxId: string;
  handler: RuntimeHandler;
  /** The pause image's reference, for the image-name annotations. */
  imageName: string;
  imageConfig: ImageConfig;
  /** /etc/passwd and /etc/group of the pause image, when its USER is a name. */
  userFiles?: UserFiles;
  /** The pod's network namespace (a bind-mounted netns file); ignored for host network. */
  netnsPath?: string;
  files: SandboxFiles;
  host: HostFacts;
  restrictOomScoreAdj: boolean;
  /** containerd's enable_unprivileged_ports / enable_unprivileged_icmp: defaults for the pod's netns. */
  unprivilegedPorts?: boolean;
  unprivilegedIcmp?: boolean;
  readSeccompProfile?: ReadProfileFile;
}

const FIELD = 'sandbox config';

export function buildSandboxSpec(input: SandboxSpecInput): Spec {
  const { config, host } = input;
  checkMetadata(config);
  const linux = config.linux;
  const security = linux?.security_context ?? null;
  const ns = sandboxNamespaceModes(security?.namespace_options ?? null);
  const privileged = security?.privileged ?? false;
  const capabilities = privileged ? [...host.capabilities] : [...DEFAULT_CAPABILITIES];
  const profile = requestedProfile(
    security?.seccomp,
    security?.seccomp_profile_path ?? '',
    `${FIELD}: linux.security_context.seccomp`,
  );
  const seccomp = seccompFor(profile, {
    privileged,
    capabilities,
    arch: host.arch,
    field: `${FIELD}: linux.security_context.seccomp`,
    readFile: input.readSeccompProfile,
  });
  const hostname = sandboxHostname(config.hostname ?? '', ns.network === 'NODE');
  checkSelinuxLabels(security?.selinux_options, host.selinuxEnabled, `${FIELD}: linux.security_context`);
  return {
    ociVersion: OCI_VERSION,
    process: {
      user: sandboxUser(input),
      args: pauseArgs(input.imageConfig),
      env: mergeEnv([DEFAULT_PATH_ENV], input.imageConfig.Env ?? []),
      cwd: input.imageConfig.WorkingDir || '/',
      capabilities: capabilitySet(capabilities),
      noNewPrivileges: true,
      oomScoreAdj: oomScoreAdj(SANDBOX_OOM_SCORE_ADJ, input.restrictOomScoreAdj, host.oomScoreAdj),
    },
    root: { path: 'rootfs', readonly: true },
    ...(hostname !== undefined && { hostname }),
    mounts: mergeMounts(defaultMounts(privileged), sandboxBinds(input.files)),
    annotations: {
      ...passthroughAnnotations(config.annotations, input.handler.pod_annotations),
      ...sandboxSizingAnnotations(linux?.resources, linux?.overhead),
      ...sandboxCriAnnotations(input.sandboxId, config, input.imageName, input.handler.name),
    },
    linux: {
      namespaces: sandboxNamespaces(ns, input.netnsPath),
      resources: { devices: [DENY_ALL_DEVICES], cpu: { shares: SANDBOX_CPU_SHARES } },
      cgroupsPath: cgroupsPath(linux?.cgroup_parent || host.defaultCgroupParent, input.sandboxId),
      sysctl: {
        ...unprivilegedDefaults(input, ns.network === 'NODE'),
        ...sysctls(linux?.sysctls ?? {}, ns.network === 'NODE'),
      },
      ...(seccomp && { seccomp }),
      maskedPaths: privileged ? [] : [...DEFAULT_MASKED_PATHS],
      readonlyPaths: privileged ? [] : [...DEFAULT_READONLY_PATHS],
    },
  };
}

/** name, namespace and uid are required (they make the pod's reserved name), at most 253 characters. */
export function checkMetadata(config: PodSandboxConfig__Output): void {
  const metadata = config.metadata;
  if (!metadata) throw invalidArgument(`${FIELD}: metadata is required`);
  for (const key of ['name', 'namespace', 'uid'] as const) {
    if (!metadata[key]) throw invalidArgument(`${FIELD}: metadata.${key} is required`);
    if (metadata[key].length > 253) throw invalidArgument(`${FIELD}: metadata.${key} is longer than 253 characters`);
  }
}

export interface SandboxNamespaceModes {
  network: NamespaceMode;
  pid: NamespaceMode;
  ipc: NamespaceMode;
}

/** The pod's namespace modes; TARGET is only meaningful for a container's pid namespace. */
export function sandboxNamespaceModes(options: NamespaceOption__Output | null): SandboxNamespaceModes {
  const field = `${FIELD}: linux.security_context.namespace_options`;
  const modes = {
    network: enumValue(options?.network, NAMESPACE_MODES, `${field}.network`),
    pid: enumValue(options?.pid, NAMESPACE_MODES, `${field}.pid`),
    ipc: enumValue(options?.ipc, NAMESPACE_MODES, `${field}.ipc`),
  };
  for (const [name, mode] of Object.entries(modes)) {
    if (mode === 'TARGET') throw invalidArgument(`${field}.${name}: TARGET is not valid for a pod`);
  }
  checkUserNamespace(options, field);
  return modes;
}

export function checkUserNamespace(options: NamespaceOption__Output | null, field: string): void {
  const userns = options?.userns_options;
  if (userns && enumValue(userns.mode, NAMESPACE_MODES, `${field}.userns_options.mode`) !== 'NODE') {
    throw invalidArgument(`${field}.userns_options: user namespaces are not supported by crid`);
  }
}

function sandboxNamespaces(ns: SandboxNamespaceModes, netnsPath: string | undefined): Namespace[] {
  const namespaces: Namespace[] = [{ type: 'mount' }];
  if (ns.network !== 'NODE') {
    namespaces.push(netnsPath ? { type: 'network', path: netnsPath } : { type: 'network' });
    namespaces.push({ type: 'uts' });
  }
  if (ns.pid !== 'NODE') namespaces.push({ type: 'pid' });
  if (ns.ipc !== 'NODE') namespaces.push({ type: 'ipc' });
  return namespaces;
}

/**
 * The pod's hostname, set only with a UTS namespace of its own: runc refuses to set a hostname
 * without one, and kubelet sends none for host-network pods.
 */
function sandboxHostname(hostname: string, hostNetwork: boolean): string | undefined {
  if (hostNetwork || hostname === '') return undefined;
  if (hostname.length > 64 || !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(hostname)) {
    throw invalidArgument(
      `${FIELD}: hostname ${quote(hostname)} is not a valid host name (letters, digits, '-', '.', at most 64)`,
    );
  }
  return hostname;
}

function pauseArgs(image: ImageConfig): string[] {
  const argv = [...(image.Entrypoint ?? []), ...(image.Cmd ?? [])];
  if (argv.length === 0) throw invalidArgument('sandbox image config has neither entrypoint nor cmd');
  checkArgv(argv, 'sandbox image config entrypoint/cmd');
  return argv;
}

/** run_as_user[:run_as_group] from the pod, else the image's USER; no /etc/group memberships (containerd). */
function sandboxUser(input: SandboxSpecInput) {
  const security = input.config.linux?.security_context ?? null;
  const field = `${FIELD}: linux.security_context`;
  let userstr = input.imageConfig.User ?? '';
  let userField = 'sandbox image config User';
  if (security?.run_as_user) {
    userstr = String(linuxId(security.run_as_user.value, `${field}.run_as_user`));
    userField = `${field}.run_as_user`;
  }
  const user = resolveUserString(userstr || '0', input.userFiles ?? {}, userField);
  if (security?.run_as_group) user.gid = linuxId(security.run_as_group.value, `${field}.run_as_group`);
  const supplemental = (security?.supplemental_groups ?? []).map((g, i) =>
    linuxId(g, `${field}.supplemental_groups[${i}]`),
  );
  return { uid: user.uid, gid: user.gid, additionalGids: mergeGids([user.gid], supplemental) };
}

function sandboxBinds(files: SandboxFiles): Mount[] {
  const binds: Mount[] = [];
  if (files.devShm)
    binds.push({ ...bindMount(files.devShm, '/dev/shm', true), options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] });
  if (files.resolvConf) binds.push(bindMount(files.resolvConf, '/etc/resolv.conf', true));
  if (files.hosts) binds.push(bindMount(files.hosts, '/etc/hosts', true));
  if (files.hostname) binds.push(bindMount(files.hostname, '/etc/hostname', true));
  return binds;
}

const SYSCTL_NAME = /^[A-Za-z0-9_-]+([./][A-Za-z0-9_-]+)*$/;

/** Low ports and ping for non-root processes in the pod's own netns, unless the pod sets them itself. */
function unprivilegedDefaults(input: SandboxSpecInput, hostNetwork: boolean): Record<string, string> {
  if (hostNetwork) return {};
  return {
    ...(input.unprivilegedPorts && { 'net.ipv4.ip_unprivileged_port_start': '0' }),
    ...(input.unprivilegedIcmp && { 'net.ipv4.ping_group_range': '0 2147483647' }),
  };
}

/** The pod's sysctls; network ones are refused with host network (they would change the node's). */
function sysctls(requested: Record<string, string>, hostNetwork: boolean): Record<string, string> {
  for (const [name, value] of Object.entries(requested)) {
    const field = `${FIELD}: linux.sysctls[${quote(name)}]`;
    if (!SYSCTL_NAME.test(name)) throw invalidArgument(`${field}: not a sysctl name`);
    if (value.includes('\0')) throw invalidArgument(`${field}: the value contains a NUL byte`);
    if (hostNetwork && name.startsWith('net.'))
      throw invalidArgument(`${field}: network sysctls cannot be set for a host-network pod`);
  }
  return { ...requested };
}
