// The keys crid understands, per config layout, and where each lands in one canonical tree.
// Canonical tree: `cri.*` follows the version-2 CRI plugin table (`plugins."io.containerd.grpc.v1.cri"`)
// whatever layout a file uses; `crid.*` is crid's own table.
import { displayPath } from './toml-positions.ts';

export type ValueKind = 'string' | 'bool' | 'int' | 'strings' | 'table' | 'any';
/** Nested key schema; `*` stands for any name (handler names). */
export interface TableSchema {
  [key: string]: ValueKind | TableSchema;
}

const RUNTIME: TableSchema = {
  runtime_type: 'string',
  runtime_path: 'string',
  runtime_engine: 'string',
  runtime_root: 'string',
  options: 'table',
  pod_annotations: 'strings',
  container_annotations: 'strings',
  privileged_without_host_devices: 'bool',
  privileged_without_host_devices_all_devices_allowed: 'bool',
  base_runtime_spec: 'string',
  cni_conf_dir: 'string',
  cni_max_conf_num: 'int',
  snapshotter: 'string',
  sandbox_mode: 'string',
  sandboxer: 'string',
  io_type: 'string',
  cgroup_writable: 'bool',
};

const CONTAINERD: TableSchema = {
  default_runtime_name: 'string',
  snapshotter: 'string',
  no_pivot: 'bool',
  disable_snapshot_annotations: 'bool',
  discard_unpacked_layers: 'bool',
  ignore_rdt_not_enabled_errors: 'bool',
  ignore_blockio_not_enabled_errors: 'bool',
  default_runtime: RUNTIME,
  untrusted_workload_runtime: RUNTIME,
  runtimes: { '*': RUNTIME },
};

const REGISTRY: TableSchema = {
  config_path: 'string',
  mirrors: 'table',
  configs: 'table',
  auths: 'table',
  headers: 'table',
};

const CNI_COMMON: TableSchema = {
  conf_dir: 'string',
  max_conf_num: 'int',
  conf_template: 'string',
  ip_pref: 'string',
  setup_serially: 'bool',
  use_internal_loopback: 'bool',
};

const STREAMING: TableSchema = {
  disable_tcp_service: 'bool',
  stream_server_address: 'string',
  stream_server_port: 'string',
  stream_idle_timeout: 'string',
  enable_tls_streaming: 'bool',
  x509_key_pair_streaming: { tls_cert_file: 'string', tls_key_file: 'string' },
};

const IMAGES_COMMON: TableSchema = {
  disable_snapshot_annotations: 'bool',
  discard_unpacked_layers: 'bool',
  max_concurrent_downloads: 'int',
  image_pull_progress_timeout: 'string',
  image_pull_with_sync_fs: 'bool',
  stats_collect_period: 'int',
  image_decryption: { key_model: 'string' },
  registry: REGISTRY,
};

const RUNTIME_COMMON: TableSchema = {
  enable_selinux: 'bool',
  selinux_category_range: 'int',
  restrict_oom_score_adj: 'bool',
  tolerate_missing_hugetlb_controller: 'bool',
  disable_hugetlb_controller: 'bool',
  disable_cgroup: 'bool',
  disable_apparmor: 'bool',
  disable_proc_mount: 'bool',
  unset_seccomp_profile: 'string',
  ignore_image_defined_volumes: 'bool',
  netns_mounts_under_state_dir: 'bool',
  enable_unprivileged_ports: 'bool',
  enable_unprivileged_icmp: 'bool',
  enable_cdi: 'bool',
  cdi_spec_dirs: 'strings',
  device_ownership_from_security_context: 'bool',
  drain_exec_sync_io_timeout: 'string',
  max_container_log_line_size: 'int',
  ignore_deprecation_warnings: 'strings',
};

/** `plugins.cri` (version 1) and `plugins."io.containerd.grpc.v1.cri"` (version 2). */
const CRI_V2: TableSchema = {
  ...RUNTIME_COMMON,
  ...IMAGES_COMMON,
  ...STREAMING,
  sandbox_image: 'string',
  systemd_cgroup: 'bool',
  containerd: CONTAINERD,
  cni: { ...CNI_COMMON, bin_dir: 'string', bin_dirs: 'strings' },
};

/** `plugins."io.containerd.cri.v1.runtime"` (version 3). */
const CRI_RUNTIME_V3: TableSchema = {
  ...RUNTIME_COMMON,
  containerd: CONTAINERD,
  cni: { ...CNI_COMMON, bin_dir: 'string', bin_dirs: 'strings' },
};

/** `plugins."io.containerd.cri.v1.images"` (version 3). */
const CRI_IMAGES_V3: TableSchema = {
  ...IMAGES_COMMON,
  snapshotter: 'string',
  use_local_image_pull: 'bool',
  pinned_images: { sandbox: 'string' },
  runtime_platforms: 'table',
};

export const CRID_SCHEMA: TableSchema = {
  socket: 'string',
  root: 'string',
  state: 'string',
  metrics_address: 'string',
  shim_namespace: 'string',
  runtimes_dir: 'string',
  deep_check_on_start: 'bool',
  log_level: 'string',
  log_format: 'string',
  runtimeclass: { '*': { overhead_cpu: 'string', overhead_memory: 'string', tolerations: 'any' } },
};

/** containerd's own top-level keys: valid in the file, not used by crid. */
const CONTAINERD_TOP_LEVEL = new Set([
  'version',
  'imports',
  'root',
  'state',
  'temp',
  'plugin_dir',
  'grpc',
  'ttrpc',
  'debug',
  'metrics',
  'disabled_plugins',
  'required_plugins',
  'oom_score',
  'cgroup',
  'proxy_plugins',
  'timeouts',
  'stream_processors',
  'plugins',
]);

export const CRI_PLUGIN_V1 = 'cri';
export const CRI_PLUGIN_V2 = 'io.containerd.grpc.v1.cri';
export const CRI_RUNTIME_PLUGIN = 'io.containerd.cri.v1.runtime';
export const CRI_IMAGES_PLUGIN = 'io.containerd.cri.v1.images';

interface Area {
  prefix: string[];
  schema: TableSchema;
  canonical: (sub: string[]) => string[];
}

const toCri = (sub: string[]): string[] => ['cri', ...sub];

function imagesToCri(sub: string[]): string[] {
  if (sub[0] === 'snapshotter') return ['cri', 'containerd', 'snapshotter'];
  if (sub[0] === 'pinned_images' && sub[1] === 'sandbox') return ['cri', 'sandbox_image'];
  return ['cri', ...sub];
}

function areas(version: number): Area[] {
  const crid: Area = { prefix: ['crid'], schema: CRID_SCHEMA, canonical: (sub) => ['crid', ...sub] };
  if (version <= 1) return [crid, { prefix: ['plugins', CRI_PLUGIN_V1], schema: CRI_V2, canonical: toCri }];
  if (version === 2) return [crid, { prefix: ['plugins', CRI_PLUGIN_V2], schema: CRI_V2, canonical: toCri }];
  return [
    crid,
    { prefix: ['plugins', CRI_RUNTIME_PLUGIN], schema: CRI_RUNTIME_V3, canonical: toCri },
    { prefix: ['plugins', CRI_IMAGES_PLUGIN], schema: CRI_IMAGES_V3, canonical: imagesToCri },
    { prefix: ['plugins', CRI_PLUGIN_V2], schema: STREAMING, canonical: toCri },
  ];
}

const CRI_PLUGIN_VERSIONS: Record<string, string> = {
  [CRI_PLUGIN_V1]: '1',
  [CRI_PLUGIN_V2]: '2',
  [CRI_RUNTIME_PLUGIN]: '3',
  [CRI_IMAGES_PLUGIN]: '3',
};

export type Placement =
  /** A key crid reads: its kind and its path in the canonical tree. */
  | { use: 'read'; kind: ValueKind | TableSchema; canonical: string[] }
  /** Valid for containerd, not used by crid (other plugins, containerd's own settings). */
  | { use: 'ignore' }
  /** A table above the tables crid reads (`plugins`): look inside. */
  | { use: 'descend' }
  /**
   * Not a key any containerd layout of this version knows: warn. `depth` = segments that are known.
   * An error when crid knows where the key was meant to go (another version's CRI table, a typo of
   * a CRI plugin id): crid would silently run without it.
   */
  | { use: 'unknown'; depth: number; message: string; severity: 'warning' | 'error' };

/** Classifies one written key path of a file of the given schema version. */
export function placeKey(written: string[], version: number): Placement {
  if (written.length === 1 && written[0] === 'plugins') return { use: 'descend' };
  for (const area of areas(version)) {
    if (!startsWith(written, area.prefix)) continue;
    const sub = written.slice(area.prefix.length);
    const kind = lookup(area.schema, sub);
    if (kind === undefined && version >= 3 && area.schema === STREAMING) return misplacedV2Key(sub);
    if (kind === undefined) return unknownKey(area.prefix.length, area.schema, sub);
    return { use: 'read', kind, canonical: area.canonical(sub) };
  }
  return placeOutsideCri(written, version);
}

function placeOutsideCri(written: string[], version: number): Placement {
  const top = written[0]!;
  if (written[0] === 'plugins' && written.length >= 2) {
    const pluginVersion = CRI_PLUGIN_VERSIONS[written[1]!];
    if (pluginVersion === undefined) return misspelledCriPlugin(written[1]!, version);
    return {
      use: 'unknown',
      depth: 1,
      message: `CRI plugin table "${written[1]}" belongs to config version ${pluginVersion}, this file is version ${version}: ${expectedTablesText(version)}`,
      severity: 'error',
    };
  }
  if (CONTAINERD_TOP_LEVEL.has(top)) return { use: 'ignore' };
  return { use: 'unknown', depth: 0, message: `unknown top-level key "${top}"`, severity: 'warning' };
}

/** The CRI plugin tables crid reads in a file of this version. */
export function criPluginIds(version: number): string[] {
  if (version <= 1) return [CRI_PLUGIN_V1];
  return version === 2 ? [CRI_PLUGIN_V2] : [CRI_RUNTIME_PLUGIN, CRI_IMAGES_PLUGIN, CRI_PLUGIN_V2];
}

export function expectedTablesText(version: number): string {
  const tables = criPluginIds(version).map((id) => `[${displayPath(['plugins', id])}]`);
  return `a version-${version} file configures the CRI plugin in ${tables.join(', ')}`;
}

/** A plugin id a typo away from a CRI plugin id: crid would run on defaults without the admin's handlers. */
function misspelledCriPlugin(id: string, version: number): Placement {
  const near = nearest(id, criPluginIds(version));
  // At most 3 edits, and few for a short id: version 1's "cri" is 3 edits from plugin "opt".
  if (near.distance > Math.min(3, near.candidate.length / 4)) return { use: 'ignore' };
  const message = `unknown plugin "${id}" (did you mean "${near.candidate}"?): ${expectedTablesText(version)}`;
  return { use: 'unknown', depth: 1, message, severity: 'error' };
}

/** A version-2 CRI key written in the streaming-only `io.containerd.grpc.v1.cri` table of a version-3 file. */
function misplacedV2Key(sub: string[]): Placement {
  const key = sub[0]!;
  const home = Object.hasOwn(CRI_RUNTIME_V3, key)
    ? CRI_RUNTIME_PLUGIN
    : Object.hasOwn(CRI_IMAGES_V3, key) || key === 'sandbox_image'
      ? CRI_IMAGES_PLUGIN
      : undefined;
  if (home === undefined && !Object.hasOwn(CRI_V2, key)) return unknownKey(2, STREAMING, sub);
  const target = key === 'sandbox_image' ? ['pinned_images', 'sandbox'] : [key];
  const where =
    home === undefined ? 'has no place in version 3' : `goes to ${displayPath(['plugins', home, ...target])}`;
  return {
    use: 'unknown',
    depth: 2,
    message: `"${key}" is a version-2 key of [${displayPath(['plugins', CRI_PLUGIN_V2])}]; in this version-3 file it ${where}`,
    severity: 'error',
  };
}

/** The candidate nearest to `word` by edit distance (case-insensitive), with that distance. */
export function nearest(word: string, candidates: readonly string[]): { candidate: string; distance: number } {
  const scored = candidates.map((candidate) => ({
    candidate,
    distance: editDistance(word.toLowerCase(), candidate.toLowerCase()),
  }));
  return scored.reduce((best, c) => (c.distance < best.distance ? c : best));
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/** Kind of the key at `sub`; a free-form table (`options`, `mirrors`) accepts anything below it. */
function lookup(schema: TableSchema, sub: string[]): ValueKind | TableSchema | undefined {
  let node: ValueKind | TableSchema = schema;
  for (const segment of sub) {
    if (typeof node === 'string') return node === 'table' || node === 'any' ? 'any' : node;
    const next: ValueKind | TableSchema | undefined = Object.hasOwn(node, segment) ? node[segment] : node['*'];
    if (next === undefined) return undefined;
    node = next;
  }
  return node;
}

function unknownKey(prefixLength: number, schema: TableSchema, sub: string[]): Placement {
  let depth = 0;
  while (lookup(schema, sub.slice(0, depth + 1)) !== undefined) depth++;
  const key = sub[depth]!;
  const hint = suggestion(schema, sub.slice(0, depth), key);
  return {
    use: 'unknown',
    depth: prefixLength + depth,
    message: `unknown key "${key}"${hint}`,
    severity: 'warning',
  };
}

function suggestion(schema: TableSchema, parent: string[], key: string): string {
  const node = lookup(schema, parent);
  if (node === undefined || typeof node === 'string') return '';
  const match = Object.keys(node).find((k) => k !== '*' && k.toLowerCase() === key.toLowerCase());
  return match === undefined ? '' : ` (did you mean "${match}"?)`;
}

function startsWith(path: string[], prefix: string[]): boolean {
  return prefix.every((segment, i) => path[i] === segment);
}

/** Does `value` have the kind the schema expects? */
export function hasKind(value: unknown, kind: ValueKind | TableSchema): boolean {
  if (typeof kind !== 'string' || kind === 'table') return isTable(value);
  switch (kind) {
    case 'string':
      return typeof value === 'string';
    case 'bool':
      return typeof value === 'boolean';
    case 'int':
      return (typeof value === 'number' && Number.isInteger(value)) || typeof value === 'bigint';
    case 'strings':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'any':
      return true;
  }
}

export function kindName(kind: ValueKind | TableSchema): string {
  if (typeof kind !== 'string' || kind === 'table') return 'a table';
  return { string: 'a string', bool: 'a boolean', int: 'an integer', strings: 'an array of strings', any: 'a value' }[
    kind
  ];
}

export function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (isTable(value)) return 'a table';
  if (typeof value === 'string') return `a string (${JSON.stringify(value)})`;
  if (typeof value === 'boolean') return `a boolean (${value})`;
  if (typeof value === 'number' || typeof value === 'bigint') return `a number (${value})`;
  return value instanceof Date ? 'a date' : typeof value;
}

export function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

const DEPRECATED: Record<string, string> = {
  default_runtime:
    '`default_runtime` is deprecated, please use `default_runtime_name` to reference the default configuration you have defined in `runtimes`',
  untrusted_workload_runtime:
    '`untrusted_workload_runtime` is deprecated, please use `untrusted` runtime in `runtimes` instead',
  systemd_cgroup: '`systemd_cgroup` is deprecated, please use runtime `options` instead',
  runtime_engine: '`runtime_engine` is deprecated, please use runtime `options` instead',
  runtime_root: '`runtime_root` is deprecated, please use runtime `options` instead',
  mirrors: '`mirrors` is deprecated, please use `config_path` instead',
  configs: '`configs` is deprecated, please use `config_path` instead',
  auths: '`auths` is deprecated, please use `ImagePullSecrets` instead',
};

/**
 * containerd's deprecation warning for a key (canonical path), if it has one. Like containerd, an
 * empty value (as `containerd config default` writes them) is not worth a warning.
 */
export function deprecation(canonical: string[], value: unknown, version: number): string | undefined {
  if (value === '' || value === false || (isTable(value) && Object.keys(value).length === 0)) return undefined;
  if (isTable(value) && 'runtime_type' in value && !value.runtime_type) return undefined;
  const parent = canonical.at(-2);
  const key = canonical.at(-1)!;
  if (['default_runtime', 'untrusted_workload_runtime'].includes(key) && parent === 'containerd')
    return DEPRECATED[key];
  if (key === 'systemd_cgroup' && canonical.length === 2) return DEPRECATED[key];
  if (['runtime_engine', 'runtime_root'].includes(key) && canonical.length >= 4) return DEPRECATED[key];
  if (['mirrors', 'configs', 'auths'].includes(key) && parent === 'registry') return DEPRECATED[key];
  if (key === 'bin_dir' && parent === 'cni' && version >= 3)
    return '`bin_dir` is deprecated, please use `bin_dirs` instead';
  return undefined;
}

export const VERSION_1_DEPRECATED =
  'containerd config version `1` has been deprecated and will be removed in containerd v2.0, please switch to version `2`';
