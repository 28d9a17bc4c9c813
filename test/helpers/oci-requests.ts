// Decoded-request builders for the oci unit tests: every field present with proto3 defaults,
// as @grpc/proto-loader hands them to crid with `defaults: true`.
import type { ContainerConfig__Output } from '../../src/generated/runtime/v1/ContainerConfig.ts';
import type { LinuxContainerResources__Output } from '../../src/generated/runtime/v1/LinuxContainerResources.ts';
import type { LinuxContainerSecurityContext__Output } from '../../src/generated/runtime/v1/LinuxContainerSecurityContext.ts';
import type { LinuxSandboxSecurityContext__Output } from '../../src/generated/runtime/v1/LinuxSandboxSecurityContext.ts';
import type { NamespaceOption__Output } from '../../src/generated/runtime/v1/NamespaceOption.ts';
import type { PodSandboxConfig__Output } from '../../src/generated/runtime/v1/PodSandboxConfig.ts';
import type { RuntimeHandler } from '../../src/config/model.ts';
import type { HostFacts } from '../../src/oci/host.ts';
import { emptyHandler } from '../../src/config/defaults.ts';

export function resources(over: Partial<LinuxContainerResources__Output> = {}): LinuxContainerResources__Output {
  return {
    cpu_period: '0',
    cpu_quota: '0',
    cpu_shares: '0',
    memory_limit_in_bytes: '0',
    oom_score_adj: '0',
    cpuset_cpus: '',
    cpuset_mems: '',
    hugepage_limits: [],
    unified: {},
    memory_swap_limit_in_bytes: '0',
    ...over,
  };
}

export function namespaceOptions(over: Partial<NamespaceOption__Output> = {}): NamespaceOption__Output {
  return { network: 'POD', pid: 'CONTAINER', ipc: 'POD', target_id: '', userns_options: null, ...over };
}

export function sandboxSecurity(
  over: Partial<LinuxSandboxSecurityContext__Output> = {},
): LinuxSandboxSecurityContext__Output {
  return {
    namespace_options: namespaceOptions(),
    selinux_options: null,
    run_as_user: null,
    readonly_rootfs: false,
    supplemental_groups: [],
    privileged: false,
    seccomp_profile_path: '',
    run_as_group: null,
    seccomp: null,
    apparmor: null,
    supplemental_groups_policy: 'Merge',
    ...over,
  };
}

export function podConfig(over: Partial<PodSandboxConfig__Output> = {}): PodSandboxConfig__Output {
  return {
    metadata: { name: 'web', uid: 'uid-1', namespace: 'default', attempt: 0 },
    hostname: 'web-host',
    log_directory: '/var/log/pods/default_web_uid-1',
    dns_config: null,
    port_mappings: [],
    labels: {},
    annotations: {},
    linux: { cgroup_parent: '', security_context: sandboxSecurity(), sysctls: {}, overhead: null, resources: null },
    windows: null,
    ...over,
  };
}

export function containerSecurity(
  over: Partial<LinuxContainerSecurityContext__Output> = {},
): LinuxContainerSecurityContext__Output {
  return {
    capabilities: null,
    privileged: false,
    namespace_options: namespaceOptions(),
    selinux_options: null,
    run_as_user: null,
    run_as_username: '',
    readonly_rootfs: false,
    supplemental_groups: [],
    apparmor_profile: '',
    seccomp_profile_path: '',
    no_new_privs: false,
    run_as_group: null,
    masked_paths: [],
    readonly_paths: [],
    seccomp: null,
    apparmor: null,
    supplemental_groups_policy: 'Merge',
    ...over,
  };
}

export function containerConfig(over: Partial<ContainerConfig__Output> = {}): ContainerConfig__Output {
  return {
    metadata: { name: 'app', attempt: 0 },
    image: {
      image: 'docker.io/library/busybox:latest',
      annotations: {},
      user_specified_image: '',
      runtime_handler: '',
      image_ref: '',
    },
    command: [],
    args: [],
    working_dir: '',
    envs: [],
    mounts: [],
    devices: [],
    labels: {},
    annotations: {},
    log_path: 'app/0.log',
    stdin: false,
    stdin_once: false,
    tty: false,
    linux: { resources: null, security_context: containerSecurity() },
    windows: null,
    CDI_devices: [],
    stop_signal: 'RUNTIME_DEFAULT',
    ...over,
  };
}

export function handler(over: Partial<RuntimeHandler> = {}): RuntimeHandler {
  return { ...emptyHandler('runc'), runtime_type: 'io.containerd.runc.v2', ...over };
}

export function hostFacts(over: Partial<HostFacts> = {}): HostFacts {
  return {
    oomScoreAdj: 0,
    capabilities: [
      'CAP_CHOWN',
      'CAP_DAC_OVERRIDE',
      'CAP_FOWNER',
      'CAP_FSETID',
      'CAP_KILL',
      'CAP_SETGID',
      'CAP_SETUID',
      'CAP_SETPCAP',
      'CAP_NET_BIND_SERVICE',
      'CAP_NET_ADMIN',
      'CAP_NET_RAW',
      'CAP_SYS_CHROOT',
      'CAP_SYS_ADMIN',
      'CAP_SYS_PTRACE',
      'CAP_MKNOD',
      'CAP_AUDIT_WRITE',
      'CAP_SETFCAP',
    ],
    arch: 'x64',
    hostname: 'node-1',
    cgroupV2: false,
    swapAvailable: true,
    hugetlbAvailable: false,
    apparmor: { enabled: false, defaultProfile: '', profilesFile: '' },
    selinuxEnabled: false,
    defaultCgroupParent: '/process_api/crid',
    ...over,
  };
}
