// `crid config default`: a commented config in containerd's version-2 layout plus [crid],
// written from the same defaults the loader applies.
import { builtinRuncHandler, CRI_DEFAULTS, CRID_DEFAULTS } from './defaults.ts';
import { isTable } from './schema.ts';
import { displayPath } from './toml-positions.ts';

const CRI = '[plugins."io.containerd.grpc.v1.cri"';

export function tomlValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(tomlValue).join(', ')}]`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (isTable(value)) return `{ ${Object.entries(value).map(([k, x]) => `${displayPath([k])} = ${tomlValue(x)}`).join(', ')} }`;
  return String(value);
}

/** The default config text; `restrictOomScoreAdj` is this machine's default (from CapEff). */
export function renderDefaultConfig(restrictOomScoreAdj: boolean): string {
  const runc = builtinRuncHandler();
  const c = CRI_DEFAULTS;
  const s = CRID_DEFAULTS;
  const v = tomlValue;
  return `# crid configuration: containerd's config.toml (version 2 layout) plus crid's own [crid] table.
# containerd ignores [crid]; crid reads the CRI plugin tables below and ignores other plugins.
version = 2
# Drop-in files merged over this one, key by key (relative to this file, globs allowed).
# imports = ["/etc/crid/conf.d/*.toml"]

${CRI}]
  # Pause image of every pod sandbox.
  sandbox_image = ${v(c.sandbox_image)}
  # Clamp containers' oom_score_adj to no lower than crid's own (default: on when crid lacks CAP_SYS_RESOURCE).
  restrict_oom_score_adj = ${v(restrictOomScoreAdj)}
  enable_selinux = ${v(c.enable_selinux)}
  # Container log lines longer than this are split into partial records.
  max_container_log_line_size = ${v(c.max_container_log_line_size)}
  # Let non-root processes bind ports below 1024 and ping inside pods (containerd 2.x defaults: true).
  enable_unprivileged_ports = ${v(c.enable_unprivileged_ports)}
  enable_unprivileged_icmp = ${v(c.enable_unprivileged_icmp)}
  # An image's VOLUMEs: false gives each a host directory with the image's content, bind-mounted.
  ignore_image_defined_volumes = ${v(c.ignore_image_defined_volumes)}
  stream_server_address = ${v(c.stream_server_address)}
  stream_server_port = ${v(c.stream_server_port)}
  stream_idle_timeout = ${v(c.stream_idle_timeout)}
  # TLS for exec/attach/port-forward URLs: a PEM key pair (crid does not make a self-signed one).
  enable_tls_streaming = ${v(c.enable_tls_streaming)}
  # [${CRI.slice(1)}.x509_key_pair_streaming]
  #   tls_cert_file = "/etc/crid/stream.crt"
  #   tls_key_file = "/etc/crid/stream.key"

  ${CRI}.containerd]
    # Handler used when a pod names none (RuntimeClass absent).
    default_runtime_name = ${v(c.default_runtime_name)}
    snapshotter = ${v(c.snapshotter)}

    # One table per RuntimeClass handler. Defining any handler replaces the built-in "runc".
    ${CRI}.containerd.runtimes.runc]
      # Shim binary: containerd-shim-<a>-<b> from the last two parts, looked up in PATH.
      runtime_type = ${v(runc.runtime_type)}
      # runtime_path = "/usr/bin/containerd-shim-runc-v2"   # absolute shim path, overrides runtime_type's name
      # pod_annotations = []         # pod annotation patterns passed to the OCI spec
      # container_annotations = []   # container annotation patterns passed to the OCI spec
      privileged_without_host_devices = ${v(runc.privileged_without_host_devices)}
      # cni_conf_dir = ""            # per-handler CNI config dir ("" = the global one)
      # snapshotter = ""             # per-handler snapshotter ("" = the global one)
      sandbox_mode = ${v(runc.sandbox_mode)}
      # Sent to the shim as containerd.runc.v1.Options.
      ${CRI}.containerd.runtimes.runc.options]
        # BinaryName = "runc"        # OCI runtime binary (e.g. "crun")
        # Root = ""                  # OCI runtime state root
        # SystemdCgroup = false      # systemd cgroup driver (also reported to the kubelet)

  ${CRI}.cni]
    # Plugin directories, searched in order (containerd 1.x reads a single bin_dir instead).
    bin_dirs = ${v(c.cni_bin_dirs)}
    conf_dir = ${v(c.cni_conf_dir)}
    max_conf_num = ${v(c.cni_max_conf_num)}

  ${CRI}.registry]
    # Directory of <host>/hosts.toml files (mirrors, CAs, credentials per registry).
    config_path = ${v(c.registry_config_path)}

# crid's own settings.
[crid]
  # CRI gRPC socket (mode 0660, root-owned).
  socket = ${v(s.socket)}
  # Persistent data: images, snapshots, pod and container records.
  root = ${v(s.root)}
  # Volatile data: bundles, event sockets.
  state = ${v(s.state)}
  # Prometheus metrics endpoint; "" turns it off.
  metrics_address = ${v(s.metrics_address)}
  # Namespace passed to shims.
  shim_namespace = ${v(s.shim_namespace)}
  # Directory of per-handler drop-in files; "" = runtimes.d beside this file.
  runtimes_dir = ${v(s.runtimes_dir)}
  # Start one sandbox per handler at startup to prove each works.
  deep_check_on_start = ${v(s.deep_check_on_start)}
  log_level = ${v(s.log_level)}

# What \`crid runtimeclass\` writes into a handler's RuntimeClass (all optional):
# [crid.runtimeclass.kata]
#   overhead_cpu = "250m"        # overhead.podFixed.cpu, added to every pod's requests by the scheduler
#   overhead_memory = "160Mi"    # overhead.podFixed.memory (\`crid runtimeclass --measure\` proposes both)
#   tolerations = [{ key = "sandboxed", operator = "Exists", effect = "NoSchedule" }]
`;
}
