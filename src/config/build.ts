// Canonical merged tree → the typed model, recording which file set each model key.
import type {
  CridConfig,
  CridSettings,
  Diagnostic,
  RegistryHostConfig,
  RuntimeClassSettings,
  RuntimeHandler,
  Toleration,
} from './model.ts';
import type { MergedConfig } from './imports.ts';
import type { Origin } from './config-file.ts';
import { pathKey } from './toml-positions.ts';
import { isTable } from './schema.ts';
import { builtinRuncHandler, CRI_DEFAULTS, CRID_DEFAULTS, emptyHandler } from './defaults.ts';

export interface BuildOptions {
  /** restrict_oom_score_adj when the file does not set it (normally from CapEff). */
  restrictOomScoreAdjDefault: boolean;
}

export interface BuiltConfig {
  config: CridConfig;
  /** Model key path (`runtimes.crun.options.BinaryName`, `cni.conf_dir`) → where it was set. */
  sources: Map<string, Origin>;
  /** Handler name → the table that declared it (last file wins). */
  handlerOrigins: Map<string, Origin>;
}

const RUNTIMES = ['cri', 'containerd', 'runtimes'];

/** Reads the model out of the merged tree; only the legacy untrusted conflict is reported here. */
export function buildConfig(merged: MergedConfig, options: BuildOptions, diagnostics: Diagnostic[]): BuiltConfig {
  const reader = new TreeReader(merged);
  const handlerOrigins = new Map<string, Origin>();
  const runtimes = readRuntimes(reader, handlerOrigins);
  const config: CridConfig = {
    version: merged.version,
    default_runtime_name:
      reader.get('default_runtime_name', ['cri', 'containerd', 'default_runtime_name']) ??
      CRI_DEFAULTS.default_runtime_name,
    runtimes,
    sandbox_image: reader.get('sandbox_image', ['cri', 'sandbox_image']) ?? CRI_DEFAULTS.sandbox_image,
    snapshotter: reader.get('snapshotter', ['cri', 'containerd', 'snapshotter']) ?? CRI_DEFAULTS.snapshotter,
    cni: {
      bin_dirs: readBinDirs(reader),
      conf_dir: reader.get('cni.conf_dir', ['cri', 'cni', 'conf_dir']) ?? CRI_DEFAULTS.cni_conf_dir,
      max_conf_num:
        toNumber(reader.get('cni.max_conf_num', ['cri', 'cni', 'max_conf_num'])) ?? CRI_DEFAULTS.cni_max_conf_num,
    },
    registry_config_path:
      reader.get('registry_config_path', ['cri', 'registry', 'config_path']) ?? CRI_DEFAULTS.registry_config_path,
    registry_mirrors: readMirrors(reader.get('registry_mirrors', ['cri', 'registry', 'mirrors'])),
    registry_configs: readRegistryConfigs(reader.get('registry_configs', ['cri', 'registry', 'configs'])),
    restrict_oom_score_adj:
      reader.get('restrict_oom_score_adj', ['cri', 'restrict_oom_score_adj']) ?? options.restrictOomScoreAdjDefault,
    stream_server_address:
      reader.get('stream_server_address', ['cri', 'stream_server_address']) ?? CRI_DEFAULTS.stream_server_address,
    stream_server_port:
      reader.get('stream_server_port', ['cri', 'stream_server_port']) ?? CRI_DEFAULTS.stream_server_port,
    stream_idle_timeout:
      reader.get('stream_idle_timeout', ['cri', 'stream_idle_timeout']) ?? CRI_DEFAULTS.stream_idle_timeout,
    enable_tls_streaming:
      reader.get('enable_tls_streaming', ['cri', 'enable_tls_streaming']) ?? CRI_DEFAULTS.enable_tls_streaming,
    stream_tls_cert_file:
      reader.get('stream_tls_cert_file', ['cri', 'x509_key_pair_streaming', 'tls_cert_file']) ??
      CRI_DEFAULTS.stream_tls_cert_file,
    stream_tls_key_file:
      reader.get('stream_tls_key_file', ['cri', 'x509_key_pair_streaming', 'tls_key_file']) ??
      CRI_DEFAULTS.stream_tls_key_file,
    enable_selinux: reader.get('enable_selinux', ['cri', 'enable_selinux']) ?? CRI_DEFAULTS.enable_selinux,
    max_container_log_line_size:
      toNumber(reader.get('max_container_log_line_size', ['cri', 'max_container_log_line_size'])) ??
      CRI_DEFAULTS.max_container_log_line_size,
    // containerd turned these on by default in 2.0, whose layout is version 3.
    enable_unprivileged_ports:
      reader.get('enable_unprivileged_ports', ['cri', 'enable_unprivileged_ports']) ??
      (merged.version >= 3 || CRI_DEFAULTS.enable_unprivileged_ports),
    enable_unprivileged_icmp:
      reader.get('enable_unprivileged_icmp', ['cri', 'enable_unprivileged_icmp']) ??
      (merged.version >= 3 || CRI_DEFAULTS.enable_unprivileged_icmp),
    ignore_image_defined_volumes:
      reader.get('ignore_image_defined_volumes', ['cri', 'ignore_image_defined_volumes']) ??
      CRI_DEFAULTS.ignore_image_defined_volumes,
    // containerd turned CDI on by default in 2.0.
    enable_cdi: reader.get('enable_cdi', ['cri', 'enable_cdi']) ?? merged.version >= 3,
    cdi_spec_dirs: reader.get('cdi_spec_dirs', ['cri', 'cdi_spec_dirs']) ?? [...CRI_DEFAULTS.cdi_spec_dirs],
    max_concurrent_downloads:
      toNumber(reader.get('max_concurrent_downloads', ['cri', 'max_concurrent_downloads'])) ??
      CRI_DEFAULTS.max_concurrent_downloads,
    image_pull_progress_timeout:
      reader.get('image_pull_progress_timeout', ['cri', 'image_pull_progress_timeout']) ??
      CRI_DEFAULTS.image_pull_progress_timeout,
    crid: readCridSettings(reader),
  };
  applyLegacyRuntimes(reader, config, handlerOrigins, diagnostics);
  if (merged.versionOrigin) reader.sources.set('version', merged.versionOrigin);
  for (const [name, origin] of handlerOrigins) reader.sources.set(`runtimes.${name}.name`, origin);
  return { config, sources: reader.sources, handlerOrigins };
}

class TreeReader {
  readonly sources = new Map<string, Origin>();
  private readonly merged: MergedConfig;

  constructor(merged: MergedConfig) {
    this.merged = merged;
  }

  /** The value at a canonical path (already type-checked), remembering its origin under `modelKey`. */
  get<T>(modelKey: string, canonical: string[]): T | undefined {
    const value = this.raw(canonical);
    if (value === undefined) return undefined;
    const origin = this.merged.origins.get(pathKey(canonical)) ?? this.merged.tables.get(pathKey(canonical));
    if (origin) this.sources.set(modelKey, origin);
    return value as T;
  }

  get dropInHandlers(): Set<string> {
    return this.merged.dropInHandlers;
  }

  raw(canonical: string[]): unknown {
    let node: unknown = this.merged.tree;
    for (const segment of canonical) {
      if (!isTable(node) || !Object.hasOwn(node, segment)) return undefined;
      node = node[segment];
    }
    return node;
  }

  table(canonical: string[]): Origin | undefined {
    return this.merged.tables.get(pathKey(canonical)) ?? this.merged.origins.get(pathKey(canonical));
  }
}

function readRuntimes(reader: TreeReader, handlerOrigins: Map<string, Origin>): Record<string, RuntimeHandler> {
  const table = reader.raw(RUNTIMES);
  if (!isTable(table)) return { runc: builtinRuncHandler() };
  const runtimes: Record<string, RuntimeHandler> = {};
  // Drop-ins add to the built-in runc rather than replace it, unless a file declares handlers.
  const fileHandlers = Object.keys(table).filter((name) => !reader.dropInHandlers.has(name));
  if (fileHandlers.length === 0 && !Object.hasOwn(table, 'runc')) runtimes.runc = builtinRuncHandler();
  for (const name of Object.keys(table)) {
    runtimes[name] = readHandler(reader, name, [...RUNTIMES, name], `runtimes.${name}`);
    const origin = reader.table([...RUNTIMES, name]);
    if (origin) handlerOrigins.set(name, origin);
  }
  return runtimes;
}

const HANDLER_SCALARS = [
  'runtime_type',
  'runtime_path',
  'runtime_engine',
  'runtime_root',
  'pod_annotations',
  'container_annotations',
  'privileged_without_host_devices',
  'privileged_without_host_devices_all_devices_allowed',
  'base_runtime_spec',
  'cni_conf_dir',
  'snapshotter',
] as const;

function readHandler(reader: TreeReader, name: string, base: string[], modelBase: string): RuntimeHandler {
  const handler = emptyHandler(name);
  const target = handler as unknown as Record<string, unknown>;
  for (const key of HANDLER_SCALARS) {
    const value = reader.get(`${modelBase}.${key}`, [...base, key]);
    if (value !== undefined) target[key] = value;
  }
  handler.cni_max_conf_num = toNumber(reader.get(`${modelBase}.cni_max_conf_num`, [...base, 'cni_max_conf_num'])) ?? 0;
  handler.sandbox_mode =
    reader.get<string>(`${modelBase}.sandbox_mode`, [...base, 'sandboxer']) ??
    reader.get<string>(`${modelBase}.sandbox_mode`, [...base, 'sandbox_mode']) ??
    handler.sandbox_mode;
  const options = reader.raw([...base, 'options']);
  if (isTable(options)) {
    handler.options = { ...options };
    for (const key of Object.keys(options)) reader.get(`${modelBase}.options.${key}`, [...base, 'options', key]);
  }
  return handler;
}

/**
 * containerd 1.x mapping: `default_runtime` (when it has a runtime_type) becomes handler "default"
 * and the default handler name; `untrusted_workload_runtime` becomes handler "untrusted".
 */
function applyLegacyRuntimes(
  reader: TreeReader,
  config: CridConfig,
  origins: Map<string, Origin>,
  diagnostics: Diagnostic[],
): void {
  const defaultBase = ['cri', 'containerd', 'default_runtime'];
  if (
    typeof reader.raw([...defaultBase, 'runtime_type']) === 'string' &&
    reader.raw([...defaultBase, 'runtime_type']) !== ''
  ) {
    config.runtimes.default = readHandler(reader, 'default', defaultBase, 'runtimes.default');
    config.default_runtime_name = 'default';
    const origin = reader.table(defaultBase);
    if (origin) {
      origins.set('default', origin);
      reader.sources.set('default_runtime_name', origin);
    }
  }
  const untrustedBase = ['cri', 'containerd', 'untrusted_workload_runtime'];
  if (
    typeof reader.raw([...untrustedBase, 'runtime_type']) !== 'string' ||
    reader.raw([...untrustedBase, 'runtime_type']) === ''
  )
    return;
  const origin = reader.table(untrustedBase);
  if (config.runtimes.untrusted !== undefined) {
    diagnostics.push({
      severity: 'error',
      message:
        'conflicting definitions: configuration includes both `untrusted_workload_runtime` and `runtimes["untrusted"]`',
      keyPath: origin?.keyPath ?? 'untrusted_workload_runtime',
      position: origin && positionOf(origin),
    });
    return;
  }
  config.runtimes.untrusted = readHandler(reader, 'untrusted', untrustedBase, 'runtimes.untrusted');
  if (origin) origins.set('untrusted', origin);
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function readMirrors(table: unknown): Record<string, string[]> {
  if (!isTable(table)) return {};
  const out: Record<string, string[]> = {};
  for (const [host, mirror] of Object.entries(table)) {
    const endpoints = isTable(mirror) ? mirror.endpoint : undefined;
    if (Array.isArray(endpoints)) out[host] = endpoints.filter((e): e is string => typeof e === 'string');
  }
  return out;
}

function readRegistryConfigs(table: unknown): Record<string, RegistryHostConfig> {
  if (!isTable(table)) return {};
  const out: Record<string, RegistryHostConfig> = {};
  for (const [host, config] of Object.entries(table)) {
    if (!isTable(config)) continue;
    const { auth, tls } = config;
    out[host] = {
      ...(isTable(auth) && {
        auth: {
          username: str(auth.username),
          password: str(auth.password),
          auth: str(auth.auth),
          identitytoken: str(auth.identitytoken),
        },
      }),
      ...(isTable(tls) && {
        tls: {
          ca_file: str(tls.ca_file),
          cert_file: str(tls.cert_file),
          key_file: str(tls.key_file),
          insecure_skip_verify: tls.insecure_skip_verify === true,
        },
      }),
    };
  }
  return out;
}

function readBinDirs(reader: TreeReader): string[] {
  const dirs = reader.get<string[]>('cni.bin_dirs', ['cri', 'cni', 'bin_dirs']);
  if (dirs !== undefined) return [...dirs];
  const dir = reader.get<string>('cni.bin_dirs', ['cri', 'cni', 'bin_dir']);
  return dir !== undefined ? [dir] : [...CRI_DEFAULTS.cni_bin_dirs];
}

function readCridSettings(reader: TreeReader): CridSettings {
  const settings = { ...CRID_DEFAULTS, runtimeclass: readRuntimeClasses(reader) };
  const target = settings as unknown as Record<string, unknown>;
  for (const key of Object.keys(CRID_DEFAULTS)) {
    if (key === 'runtimeclass') continue;
    const value = reader.get(`crid.${key}`, ['crid', key]);
    if (value !== undefined) target[key] = value;
  }
  return settings;
}

/** `[crid.runtimeclass.<handler>]` tables; tolerations are checked by validate.ts. */
function readRuntimeClasses(reader: TreeReader): Record<string, RuntimeClassSettings> {
  const table = reader.raw(['crid', 'runtimeclass']);
  if (!isTable(table)) return {};
  const out: Record<string, RuntimeClassSettings> = {};
  for (const name of Object.keys(table)) {
    const base = ['crid', 'runtimeclass', name];
    const model = `crid.runtimeclass.${name}`;
    const tolerations = reader.get<unknown>(`${model}.tolerations`, [...base, 'tolerations']);
    out[name] = {
      overhead_cpu: reader.get<string>(`${model}.overhead_cpu`, [...base, 'overhead_cpu']) ?? '',
      overhead_memory: reader.get<string>(`${model}.overhead_memory`, [...base, 'overhead_memory']) ?? '',
      tolerations: tolerations === undefined ? [] : (tolerations as Toleration[]),
    };
    const origin = reader.table(base);
    if (origin) reader.sources.set(model, origin);
  }
  return out;
}

function toNumber(value: unknown): number | undefined {
  return value === undefined ? undefined : Number(value);
}

export function positionOf(origin: Origin): Diagnostic['position'] {
  return { file: origin.file, line: origin.line, column: origin.column };
}
