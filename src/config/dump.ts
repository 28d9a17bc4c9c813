// The effective config (the model after merging and defaults) as TOML or JSON, each key with its source.
// The TOML is a version-2 containerd layout plus [crid], so `crid config check` loads it back as it is.
import type { CridConfig, RuntimeHandler } from './model.ts';
import type { Origin } from './config-file.ts';
import { displayPath } from './toml-positions.ts';
import { CRI_PLUGIN_V2 } from './schema.ts';
import { tomlValue } from './default-config.ts';

export interface DumpInput {
  config: CridConfig;
  files: string[];
  sources: Map<string, Origin>;
}

const where = (o: Origin): string => `${o.file}:${o.line}:${o.column}`;

export function dumpJson(input: DumpInput): string {
  const sources = Object.fromEntries([...input.sources].map(([key, origin]) => [key, where(origin)]));
  return `${JSON.stringify({ files: input.files, config: input.config, sources }, null, 2)}\n`;
}

/** A TOML key of the dump: the TOML key written, its value, and the model key whose source it shows. */
type Row = [tomlKey: string, value: unknown, modelKey: string];

const CRI = ['plugins', CRI_PLUGIN_V2];

/** `# file:line:col` or `# default` after each key. */
export function dumpToml(input: DumpInput): string {
  const c = input.config;
  const out = new TomlWriter(input.sources);
  out.comment('Effective crid config, merged from:', ...input.files.map((f) => `  ${f}`));
  out.comment(
    `Written in the version-2 layout (the main file is version ${c.version}); \`crid config check\` loads it as it is.`,
  );
  out.comment(
    'Handlers of runtimes_dir drop-ins are included: load it with a runtimes_dir that does not hold them again.',
  );
  out.rows([], [['version', 2, 'version']]);
  out.rows(CRI, [
    ['sandbox_image', c.sandbox_image, 'sandbox_image'],
    ['restrict_oom_score_adj', c.restrict_oom_score_adj, 'restrict_oom_score_adj'],
    ['enable_selinux', c.enable_selinux, 'enable_selinux'],
    ['max_container_log_line_size', c.max_container_log_line_size, 'max_container_log_line_size'],
    ['enable_unprivileged_ports', c.enable_unprivileged_ports, 'enable_unprivileged_ports'],
    ['enable_unprivileged_icmp', c.enable_unprivileged_icmp, 'enable_unprivileged_icmp'],
    ['stream_server_address', c.stream_server_address, 'stream_server_address'],
    ['stream_server_port', c.stream_server_port, 'stream_server_port'],
    ['stream_idle_timeout', c.stream_idle_timeout, 'stream_idle_timeout'],
    ['enable_tls_streaming', c.enable_tls_streaming, 'enable_tls_streaming'],
    ['ignore_image_defined_volumes', c.ignore_image_defined_volumes, 'ignore_image_defined_volumes'],
    ['enable_cdi', c.enable_cdi, 'enable_cdi'],
    ['cdi_spec_dirs', c.cdi_spec_dirs, 'cdi_spec_dirs'],
    ['max_concurrent_downloads', c.max_concurrent_downloads, 'max_concurrent_downloads'],
    ['image_pull_progress_timeout', c.image_pull_progress_timeout, 'image_pull_progress_timeout'],
  ]);
  out.rows(
    [...CRI, 'x509_key_pair_streaming'],
    [
      ['tls_cert_file', c.stream_tls_cert_file, 'stream_tls_cert_file'],
      ['tls_key_file', c.stream_tls_key_file, 'stream_tls_key_file'],
    ],
  );
  out.rows(
    [...CRI, 'containerd'],
    [
      ['default_runtime_name', c.default_runtime_name, 'default_runtime_name'],
      ['snapshotter', c.snapshotter, 'snapshotter'],
    ],
  );
  for (const handler of Object.values(c.runtimes)) writeHandler(out, handler);
  out.rows(
    [...CRI, 'cni'],
    [
      ['bin_dirs', c.cni.bin_dirs, 'cni.bin_dirs'],
      ['conf_dir', c.cni.conf_dir, 'cni.conf_dir'],
      ['max_conf_num', c.cni.max_conf_num, 'cni.max_conf_num'],
    ],
  );
  out.rows([...CRI, 'registry'], [['config_path', c.registry_config_path, 'registry_config_path']]);
  const { runtimeclass, ...crid } = c.crid;
  out.rows(
    ['crid'],
    Object.entries(crid).map(([key, value]): Row => [key, value, `crid.${key}`]),
  );
  for (const [name, settings] of Object.entries(runtimeclass)) {
    out.rows(
      ['crid', 'runtimeclass', name],
      Object.entries(settings).map(([key, value]): Row => [key, value, `crid.runtimeclass.${name}.${key}`]),
    );
  }
  return out.text();
}

function writeHandler(out: TomlWriter, h: RuntimeHandler): void {
  const base = [...CRI, 'containerd', 'runtimes', h.name];
  const model = `runtimes.${h.name}`;
  const { name: _name, options, ...keys } = h;
  // The legacy keys only warn (deprecated) when set; empty, they are left out like containerd does.
  const rows = Object.entries(keys)
    .filter(([key, value]) => !((key === 'runtime_engine' || key === 'runtime_root') && value === ''))
    .map(([key, value]): Row => [key, value, `${model}.${key}`]);
  out.rows(base, rows);
  if (Object.keys(options).length > 0) {
    out.rows(
      [...base, 'options'],
      Object.entries(options).map(([key, value]): Row => [key, value, `${model}.options.${key}`]),
    );
  }
}

class TomlWriter {
  private readonly lines: string[] = [];
  private readonly sources: Map<string, Origin>;

  constructor(sources: Map<string, Origin>) {
    this.sources = sources;
  }

  comment(...lines: string[]): void {
    this.lines.push(...lines.map((l) => `# ${l}`));
  }

  /** A table header (none for the top level) and its keys. */
  rows(table: string[], rows: Row[]): void {
    if (table.length > 0) this.lines.push('', `[${displayPath(table)}]`);
    for (const [key, value, modelKey] of rows) {
      const origin = this.sources.get(modelKey);
      this.lines.push(`${displayPath([key])} = ${tomlValue(value)}  # ${origin ? where(origin) : 'default'}`);
    }
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}
