// The one typed model every containerd config layout (version 1, 2, 3) is loaded into.
// Field names follow the TOML keys of containerd's CRI plugin; crid's own settings live under [crid].

/** One CRI runtime handler: `[...containerd.runtimes.<name>]`. */
export interface RuntimeHandler {
  name: string;
  /** e.g. `io.containerd.runc.v2`, `io.containerd.kata.v2`, `io.containerd.runtime.v1.linux`. */
  runtime_type: string;
  /** Absolute shim binary path that overrides the name derived from runtime_type. */
  runtime_path: string;
  /** Legacy v1 shim only: the OCI runtime binary and its root (containerd 1.x keys). */
  runtime_engine: string;
  runtime_root: string;
  /** The `options` table as written (BinaryName, Root, SystemdCgroup, ConfigPath, …). */
  options: Record<string, unknown>;
  pod_annotations: string[];
  container_annotations: string[];
  privileged_without_host_devices: boolean;
  privileged_without_host_devices_all_devices_allowed: boolean;
  base_runtime_spec: string;
  cni_conf_dir: string;
  cni_max_conf_num: number;
  snapshotter: string;
  /** `sandbox_mode` (1.7) / `sandboxer` (2.x); `podsandbox` by default. */
  sandbox_mode: string;
}

export interface RegistryHostConfig {
  auth?: { username: string; password: string; auth: string; identitytoken: string };
  tls?: { ca_file: string; cert_file: string; key_file: string; insecure_skip_verify: boolean };
}

export interface CniConfig {
  bin_dirs: string[];
  conf_dir: string;
  max_conf_num: number;
}

/** crid's own settings (`[crid]`), a table containerd ignores. */
export interface CridSettings {
  socket: string;
  /** Persistent data: images, content, snapshots, sandbox/container records. */
  root: string;
  /** Volatile data: bundles, the events socket, netns bookkeeping. */
  state: string;
  /** Prometheus endpoint, loopback only by default; "" turns it off. */
  metrics_address: string;
  /** Namespace given to shims (`-namespace`); containerd's CRI uses k8s.io. */
  shim_namespace: string;
  /** Directory of per-handler drop-in files; "" means `runtimes.d` beside the main config. */
  runtimes_dir: string;
  /** Start one real sandbox per handler at startup to check it works. */
  deep_check_on_start: boolean;
  log_level: string;
  /** "text" or "json"; "" = text on a terminal, JSON otherwise. */
  log_format: string;
  /** `[crid.runtimeclass.<handler>]`: what `crid runtimeclass` puts in that handler's RuntimeClass. */
  runtimeclass: Record<string, RuntimeClassSettings>;
}

/** A Kubernetes toleration, as written in a RuntimeClass's `scheduling.tolerations`. */
export interface Toleration {
  key?: string;
  /** `Equal` (default) or `Exists`. */
  operator?: string;
  value?: string;
  /** `NoSchedule`, `PreferNoSchedule`, `NoExecute`, or absent for all effects. */
  effect?: string;
  tolerationSeconds?: number;
}

export interface RuntimeClassSettings {
  /** `overhead.podFixed.cpu`, a Kubernetes quantity ("250m"); "" = none. */
  overhead_cpu: string;
  /** `overhead.podFixed.memory`, a Kubernetes quantity ("160Mi"); "" = none. */
  overhead_memory: string;
  tolerations: Toleration[];
}

export interface CridConfig {
  /** Schema version of the main file (1, 2 or 3). */
  version: number;
  default_runtime_name: string;
  runtimes: Record<string, RuntimeHandler>;
  sandbox_image: string;
  snapshotter: string;
  cni: CniConfig;
  /** `registry.config_path`: a hosts.toml directory tree (`<host>/hosts.toml`). */
  registry_config_path: string;
  /** containerd 1.x's inline `registry.mirrors`: registry host (or "*") → endpoints; config_path wins. */
  registry_mirrors: Record<string, string[]>;
  /** containerd 1.x's inline `registry.configs`, by endpoint host: credentials and TLS. */
  registry_configs: Record<string, RegistryHostConfig>;
  /** Clamp oom_score_adj of containers to be no lower than crid's own. */
  restrict_oom_score_adj: boolean;
  stream_server_address: string;
  stream_server_port: string;
  stream_idle_timeout: string;
  /** Serve the streaming server over TLS with the key pair below (containerd's enable_tls_streaming). */
  enable_tls_streaming: boolean;
  /** `x509_key_pair_streaming.tls_cert_file` / `.tls_key_file`: PEM files. */
  stream_tls_cert_file: string;
  stream_tls_key_file: string;
  enable_selinux: boolean;
  /** Longer log lines are split into partial (P) records; containerd's default 16 KiB. */
  max_container_log_line_size: number;
  /** Sysctls that let non-root processes bind ports < 1024 / ping in pods (containerd 2.x: on). */
  enable_unprivileged_ports: boolean;
  enable_unprivileged_icmp: boolean;
  /** Leave an image's VOLUMEs out of its containers (containerd's key); else each is a copied-up host directory. */
  ignore_image_defined_volumes: boolean;
  /** Inject Container Device Interface devices (CDI_devices, cdi.k8s.io/ annotations) from the specs in cdi_spec_dirs. */
  enable_cdi: boolean;
  /** Lowest priority first: a device in a later directory replaces one of the same name in an earlier. */
  cdi_spec_dirs: string[];
  /** Layers one pull downloads at once. */
  max_concurrent_downloads: number;
  /** A Go duration: a pull that receives no data for this long is cancelled; "0s" never. */
  image_pull_progress_timeout: string;
  crid: CridSettings;
}

/** Where a diagnostic points: file and 1-based line/column, plus the dotted key path. */
export interface Position {
  file: string;
  line: number;
  column: number;
}

export interface Diagnostic {
  severity: 'error' | 'warning';
  message: string;
  keyPath: string;
  position?: Position;
}
