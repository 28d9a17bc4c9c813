// Values used when a key is absent: containerd's CRI defaults, plus crid's own table.
import { readFileSync } from 'node:fs';
import type { CridSettings, RuntimeHandler } from './model.ts';

export const DEFAULT_CONFIG_PATH = '/etc/crid/crid.toml';

/** `--config` flag, else $CRID_CONFIG, else /etc/crid/crid.toml. */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? (env.CRID_CONFIG || DEFAULT_CONFIG_PATH);
}

export const CRID_DEFAULTS: Readonly<CridSettings> = {
  socket: '/run/crid/crid.sock',
  root: '/var/lib/crid',
  state: '/run/crid',
  metrics_address: '127.0.0.1:9149',
  shim_namespace: 'k8s.io',
  runtimes_dir: '',
  deep_check_on_start: false,
  log_level: 'info',
  log_format: '',
  runtimeclass: {},
};

/** pino's levels, as `[crid] log_level` and `crid serve --log-level` take them. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** Beside the main config file when `[crid] runtimes_dir` is "". */
export const DEFAULT_RUNTIMES_DIR = 'runtimes.d';

export const CRI_DEFAULTS = {
  default_runtime_name: 'runc',
  sandbox_image: 'registry.k8s.io/pause:3.10',
  snapshotter: 'overlayfs',
  cni_bin_dirs: ['/usr/lib/cni', '/opt/cni/bin'],
  cni_conf_dir: '/etc/cni/net.d',
  cni_max_conf_num: 1,
  registry_config_path: '',
  stream_server_address: '127.0.0.1',
  stream_server_port: '0',
  stream_idle_timeout: '4h0m0s',
  enable_tls_streaming: false,
  max_container_log_line_size: 16 * 1024,
  /** containerd 1.x's defaults; a version-3 (containerd 2.x) file defaults them to true. */
  enable_unprivileged_ports: false,
  enable_unprivileged_icmp: false,
  ignore_image_defined_volumes: false,
  stream_tls_cert_file: '',
  stream_tls_key_file: '',
  enable_selinux: false,
  cdi_spec_dirs: ['/etc/cdi', '/var/run/cdi'],
  max_concurrent_downloads: 3,
  image_pull_progress_timeout: '5m0s',
} as const;

export const RUNC_V2 = 'io.containerd.runc.v2';
export const DEFAULT_SANDBOX_MODE = 'podsandbox';

/** A handler with every key at its default. */
export function emptyHandler(name: string): RuntimeHandler {
  return {
    name,
    runtime_type: '',
    runtime_path: '',
    runtime_engine: '',
    runtime_root: '',
    options: {},
    pod_annotations: [],
    container_annotations: [],
    privileged_without_host_devices: false,
    privileged_without_host_devices_all_devices_allowed: false,
    base_runtime_spec: '',
    cni_conf_dir: '',
    cni_max_conf_num: 0,
    snapshotter: '',
    sandbox_mode: DEFAULT_SANDBOX_MODE,
  };
}

/** containerd's built-in `runc` handler, present only when the file has no `runtimes` table at all. */
export function builtinRuncHandler(): RuntimeHandler {
  return { ...emptyHandler('runc'), runtime_type: RUNC_V2 };
}

const CAP_SYS_RESOURCE = 24n;

/** Whether a /proc/<pid>/status text grants CAP_SYS_RESOURCE in CapEff. */
export function hasCapSysResource(procStatus: string): boolean {
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(procStatus)?.[1];
  return hex !== undefined && ((BigInt(`0x${hex}`) >> CAP_SYS_RESOURCE) & 1n) === 1n;
}

/** Without CAP_SYS_RESOURCE a container cannot get a lower oom_score_adj than crid: clamp by default. */
export function defaultRestrictOomScoreAdj(): boolean {
  try {
    return !hasCapSysResource(readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return false;
  }
}
