// `crid config default`: a commented config in containerd's version-2 layout plus [crid],
// written from the same defaults the loader applies.
import { CRI_DEFAULTS, CRID_DEFAULTS, RUNC_V2 } from './defaults.ts';
import { isTable } from './schema.ts';
import { displayPath } from './toml-positions.ts';

const CRI = '[plugins."io.containerd.grpc.v1.cri"';

export function tomlValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(tomlValue).join(', ')}]`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (isTable(value))
    return `{ ${Object.entries(value)
      .map(([k, x]) => `${displayPath([k])} = ${tomlValue(x)}`)
      .join(', ')} }`;
  return String(value);
}

/**
 * A node's config, shipped as config/crid.toml: the same on every machine (nothing here is probed),
 * with handlers runc (the default) and crun; whether each works on a node is `crid check`'s business.
 */
export function renderDefaultConfig(): string {
  const c = CRI_DEFAULTS;
  const s = CRID_DEFAULTS;
  const v = tomlValue;
  return `# crid configuration: containerd's config.toml (version 2 layout) plus crid's own [crid] table.
# containerd ignores [crid]; crid reads the CRI plugin tables below and ignores other plugins.
# This is \`crid config default\`. Check a change with \`crid config check\`, apply it with
# \`crid config reload\` (or SIGHUP); \`crid config dump\` shows the effective config.
version = 2
# Drop-in files merged over this one, key by key (relative to this file, globs allowed).
# imports = ["/etc/crid/conf.d/*.toml"]

${CRI}]
  # Pause image of every pod sandbox.
  sandbox_image = ${v(c.sandbox_image)}
  # Clamp containers' oom_score_adj to no lower than crid's own. Unset, it is on exactly when crid
  # lacks CAP_SYS_RESOURCE (as in an unprivileged user namespace), off on a normal node.
  # restrict_oom_score_adj = false
  # SELinux labels for containers (needs an SELinux-enabled host).
  enable_selinux = ${v(c.enable_selinux)}
  # Container log lines longer than this are split into partial records; -1: never split.
  max_container_log_line_size = ${v(c.max_container_log_line_size)}
  # Let non-root processes bind ports below 1024 and ping inside pods (containerd 2.x defaults: true).
  enable_unprivileged_ports = ${v(c.enable_unprivileged_ports)}
  enable_unprivileged_icmp = ${v(c.enable_unprivileged_icmp)}
  # An image's VOLUMEs: false gives each a host directory with the image's content, bind-mounted.
  ignore_image_defined_volumes = ${v(c.ignore_image_defined_volumes)}
  # Where the exec/attach/port-forward server listens (an IP address; the kubelet proxies to it).
  stream_server_address = ${v(c.stream_server_address)}
  # Its port; "0" picks a free one.
  stream_server_port = ${v(c.stream_server_port)}
  # An idle streaming connection is closed after this long (a Go duration: "4h0m0s", "30m").
  stream_idle_timeout = ${v(c.stream_idle_timeout)}
  # TLS for exec/attach/port-forward URLs: a PEM key pair (crid does not make a self-signed one).
  enable_tls_streaming = ${v(c.enable_tls_streaming)}
  # [${CRI.slice(1)}.x509_key_pair_streaming]
  #   tls_cert_file = "/etc/crid/stream.crt"
  #   tls_key_file = "/etc/crid/stream.key"

  ${CRI}.containerd]
    # Handler used when a pod names none (RuntimeClass absent).
    default_runtime_name = ${v(c.default_runtime_name)}
    # Image layer storage (crid has overlayfs only).
    snapshotter = ${v(c.snapshotter)}

    # One table per RuntimeClass handler; the table's name is the handler name.
    # runc through the runc v2 shim (containerd-shim-runc-v2).
    ${CRI}.containerd.runtimes.runc]
      # Shim binary: containerd-shim-<a>-<b> from the last two parts, looked up in PATH.
      runtime_type = ${v(RUNC_V2)}
      # runtime_path = "/usr/bin/containerd-shim-runc-v2"   # absolute shim path, overrides runtime_type's name
      # pod_annotations = []         # pod annotation patterns passed to the OCI spec
      # container_annotations = []   # container annotation patterns passed to the OCI spec
      # privileged_without_host_devices = false   # true: privileged pods do not get the host's devices
      # cni_conf_dir = ""            # per-handler CNI config dir ("" = the global one)
      # Sent to the shim as containerd.runc.v1.Options.
      ${CRI}.containerd.runtimes.runc.options]
        # OCI runtime binary, looked up in PATH.
        BinaryName = "runc"
        # OCI runtime state root, one per handler.
        Root = "/run/crid/runc"
        # systemd cgroup driver; must match the kubelet's cgroupDriver (false: cgroupfs).
        SystemdCgroup = false

    # crun through the same shim, with its own state root (a RuntimeClass with handler "crun").
    ${CRI}.containerd.runtimes.crun]
      runtime_type = ${v(RUNC_V2)}
      ${CRI}.containerd.runtimes.crun.options]
        BinaryName = "crun"
        Root = "/run/crid/crun"
        SystemdCgroup = false

  ${CRI}.cni]
    # Plugin directories, searched in order (containerd 1.x reads a single bin_dir instead).
    bin_dirs = ${v(c.cni_bin_dirs)}
    # Network configs; the first in lexical order is the pod network.
    conf_dir = ${v(c.cni_conf_dir)}
    # How many config files of conf_dir to load (0: all).
    max_conf_num = ${v(c.cni_max_conf_num)}

  ${CRI}.registry]
    # Directory of <host>/hosts.toml files (mirrors, CAs, credentials per registry); "" = none.
    config_path = ${v(c.registry_config_path)}

# crid's own settings.
[crid]
  # CRI gRPC socket (mode 0660, root-owned): the kubelet's containerRuntimeEndpoint.
  socket = ${v(s.socket)}
  # Persistent data: images, snapshots, pod and container records.
  root = ${v(s.root)}
  # Volatile data: bundles, event sockets, the control socket.
  state = ${v(s.state)}
  # Prometheus metrics endpoint (host:port); "" turns it off.
  metrics_address = ${v(s.metrics_address)}
  # containerd namespace passed to shims.
  shim_namespace = ${v(s.shim_namespace)}
  # Directory of per-handler drop-in files (<handler>.toml); "" = runtimes.d beside this file.
  runtimes_dir = ${v(s.runtimes_dir)}
  # Start one sandbox per handler at startup to prove each works (\`crid check --deep\` on demand).
  deep_check_on_start = ${v(s.deep_check_on_start)}
  # trace, debug, info, warn, error, fatal or silent (\`crid serve --log-level\` overrides it).
  log_level = ${v(s.log_level)}
  # "text" (ISO time, level, message, key=value) or "json" (one object a line, for a log collector).
  # Unset: text when stderr is a terminal, JSON otherwise (as under systemd).
  # log_format = "json"

# What \`crid runtimeclass\` writes into a handler's RuntimeClass (all optional):
# [crid.runtimeclass.kata]
#   overhead_cpu = "250m"        # overhead.podFixed.cpu, added to every pod's requests by the scheduler
#   overhead_memory = "160Mi"    # overhead.podFixed.memory (\`crid runtimeclass --measure\` proposes both)
#   tolerations = [{ key = "sandboxed", operator = "Exists", effect = "NoSchedule" }]
`;
}
