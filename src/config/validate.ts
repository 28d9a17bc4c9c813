// Semantic checks of the built model, each pointed at the key (file:line:column) it is about.
import { isIP } from 'node:net';
import path from 'node:path';
import type { Diagnostic, RuntimeClassSettings, RuntimeHandler } from './model.ts';
import { parseGoDuration } from '../util/go-duration.ts';
import { parseNormalizedReference } from '../reference/reference.ts';
import { isQuantity, tolerationProblems } from './runtimeclass-settings.ts';
import { parseListenAddress } from './listen-address.ts';
import type { BuiltConfig } from './build.ts';
import type { Origin } from './config-file.ts';
import { positionOf } from './build.ts';
import { describeValue, hasKind, kindName } from './schema.ts';
import { knownOptionKeys, optionKind, RUNTIME_V1_LINUX } from './options.ts';
import { LOG_LEVELS } from './defaults.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** containerd's namespace rule (namespaces.Validate). */
const SHIM_NAMESPACE = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;

export function validateConfig(built: BuiltConfig, mainFile: string): Diagnostic[] {
  const check = new Checker(built, mainFile);
  check.defaultRuntime();
  for (const handler of Object.values(built.config.runtimes)) check.handler(handler);
  check.metricsAddress();
  check.streaming();
  check.streamingTls();
  check.values();
  for (const [name, settings] of Object.entries(built.config.crid.runtimeclass)) check.runtimeClass(name, settings);
  return check.diagnostics;
}

class Checker {
  readonly diagnostics: Diagnostic[] = [];
  private readonly built: BuiltConfig;
  private readonly mainFile: string;

  constructor(built: BuiltConfig, mainFile: string) {
    this.built = built;
    this.mainFile = mainFile;
  }

  defaultRuntime(): void {
    const { default_runtime_name: name, runtimes } = this.built.config;
    const at = this.source('default_runtime_name');
    if (name === '') {
      this.report('error', '`default_runtime_name` is empty', 'default_runtime_name', at);
    } else if (runtimes[name] === undefined) {
      const message = `no corresponding runtime configured in \`containerd.runtimes\` for \`containerd\` \`default_runtime_name = "${name}"\``;
      const firstHandler = this.built.handlerOrigins.values().next().value;
      const fallback = firstHandler && { ...firstHandler, keyPath: 'default_runtime_name' };
      this.report('error', message, 'default_runtime_name', at ?? fallback);
    }
  }

  handler(h: RuntimeHandler): void {
    const base = `runtimes.${h.name}`;
    const table = this.built.handlerOrigins.get(h.name);
    if (!DNS_LABEL.test(h.name) || h.name.length > 63) {
      this.report(
        'warning',
        `handler name "${h.name}" is not a lowercase RFC 1123 label (at most 63 characters of a-z, 0-9, '-'): no RuntimeClass can select it`,
        base,
        table,
      );
    }
    if (h.runtime_type === '') {
      this.report('error', `runtime handler "${h.name}" has no runtime_type`, base, table);
    } else if (!isRuntimeTypeForm(h.runtime_type)) {
      this.report(
        'error',
        `invalid runtime_type "${h.runtime_type}" for handler "${h.name}": expected a dotted name like io.containerd.runc.v2 or an absolute shim path`,
        `${base}.runtime_type`,
        this.source(`${base}.runtime_type`),
      );
    }
    for (const key of ['runtime_engine', 'runtime_root'] as const) {
      if (h[key] !== '' && h.runtime_type !== RUNTIME_V1_LINUX) {
        this.report(
          'error',
          `\`${key}\` only works for runtime ${RUNTIME_V1_LINUX}`,
          `${base}.${key}`,
          this.source(`${base}.${key}`),
        );
      }
    }
    if (h.privileged_without_host_devices_all_devices_allowed && !h.privileged_without_host_devices) {
      const key = `${base}.privileged_without_host_devices_all_devices_allowed`;
      this.report(
        'error',
        '`privileged_without_host_devices_all_devices_allowed` requires `privileged_without_host_devices` to be enabled',
        key,
        this.source(key),
      );
    }
    this.options(h, base);
  }

  metricsAddress(): void {
    const address = this.built.config.crid.metrics_address;
    if (address === '' || parseListenAddress(address) !== undefined) return;
    const key = 'crid.metrics_address';
    this.report(
      'error',
      `invalid metrics_address "${address}": expected host:port (e.g. 127.0.0.1:9149), or "" to turn metrics off`,
      key,
      this.source(key),
    );
  }

  streaming(): void {
    const c = this.built.config;
    if (!/^\d{1,5}$/.test(c.stream_server_port) || Number(c.stream_server_port) > 65535) {
      this.error(
        `stream_server_port "${c.stream_server_port}" is not a port number (0-65535; "0" picks a free port)`,
        'stream_server_port',
      );
    }
    if (c.stream_server_address !== '' && isIP(c.stream_server_address) === 0) {
      this.error(`stream_server_address "${c.stream_server_address}" is not an IP address`, 'stream_server_address');
    }
    try {
      parseGoDuration(c.stream_idle_timeout, 'stream_idle_timeout');
    } catch (err) {
      this.error((err as Error).message, 'stream_idle_timeout');
    }
  }

  /** The remaining values crid reads, each checked the way the code that uses it would read it. */
  values(): void {
    const c = this.built.config;
    try {
      parseNormalizedReference(c.sandbox_image);
    } catch (err) {
      this.error(
        `sandbox_image "${c.sandbox_image}" is not an image reference: ${(err as Error).message}`,
        'sandbox_image',
      );
    }
    if (!LOG_LEVELS.includes(c.crid.log_level)) {
      this.error(`log_level "${c.crid.log_level}" is not one of ${LOG_LEVELS.join(', ')}`, 'crid.log_level');
    }
    if (!['', 'text', 'json'].includes(c.crid.log_format)) {
      this.error(
        `log_format "${c.crid.log_format}" is not "text" or "json" ("" or unset: text on a terminal, JSON otherwise)`,
        'crid.log_format',
      );
    }
    if (!SHIM_NAMESPACE.test(c.crid.shim_namespace)) {
      this.error(
        `shim_namespace "${c.crid.shim_namespace}" is not a containerd namespace (letters and digits, joined by '.', '_' or '-')`,
        'crid.shim_namespace',
      );
    }
    for (const key of ['socket', 'root', 'state'] as const) this.absolute(c.crid[key], `crid.${key}`);
    this.absolute(c.cni.conf_dir, 'cni.conf_dir');
    for (const dir of c.cni.bin_dirs) this.absolute(dir, 'cni.bin_dirs');
    if (c.cni.max_conf_num < 0)
      this.error(`max_conf_num ${c.cni.max_conf_num} is negative (0 = every file)`, 'cni.max_conf_num');
    this.snapshotter(c.snapshotter, 'snapshotter');
    for (const h of Object.values(c.runtimes)) {
      if (h.runtime_path !== '') this.absolute(h.runtime_path, `runtimes.${h.name}.runtime_path`);
      if (h.snapshotter !== '') this.snapshotter(h.snapshotter, `runtimes.${h.name}.snapshotter`);
    }
  }

  /** crid would unpack layers with overlayfs whatever the file says. */
  private snapshotter(value: string, modelKey: string): void {
    if (value !== 'overlayfs')
      this.error(`snapshotter "${value}" is not available: crid stores image layers with overlayfs only`, modelKey);
  }

  private absolute(value: string, modelKey: string): void {
    if (!path.isAbsolute(value)) this.error(`"${value}" is not an absolute path`, modelKey);
  }

  private error(message: string, modelKey: string): void {
    this.report('error', message, modelKey, this.source(modelKey));
  }

  /** containerd makes a self-signed certificate when no key pair is given; crid asks for the files. */
  streamingTls(): void {
    const c = this.built.config;
    if (!c.enable_tls_streaming || (c.stream_tls_cert_file !== '' && c.stream_tls_key_file !== '')) return;
    const message =
      'enable_tls_streaming needs x509_key_pair_streaming.tls_cert_file and tls_key_file (crid does not generate a self-signed certificate)';
    this.report('error', message, 'enable_tls_streaming', this.source('enable_tls_streaming'));
  }

  runtimeClass(name: string, settings: RuntimeClassSettings): void {
    const base = `crid.runtimeclass.${name}`;
    if (!Object.hasOwn(this.built.config.runtimes, name)) {
      this.report(
        'warning',
        `[crid.runtimeclass.${name}] names no configured handler (handlers: ${Object.keys(this.built.config.runtimes).sort().join(', ')})`,
        base,
        this.source(base),
      );
    }
    for (const key of ['overhead_cpu', 'overhead_memory'] as const) {
      const value = settings[key];
      if (value !== '' && !isQuantity(value)) {
        this.report(
          'error',
          `${key} "${value}" is not a Kubernetes quantity (e.g. ${key === 'overhead_cpu' ? '"250m"' : '"160Mi"'})`,
          `${base}.${key}`,
          this.source(`${base}.${key}`),
        );
      }
    }
    const tolerations: unknown = settings.tolerations;
    const at = this.source(`${base}.tolerations`);
    if (!Array.isArray(tolerations)) {
      this.report(
        'error',
        `wrong type: expected an array of tolerations, got ${describeValue(tolerations)}`,
        `${base}.tolerations`,
        at,
      );
      return;
    }
    tolerations.forEach((t, i) => {
      for (const problem of tolerationProblems(t))
        this.report('error', `tolerations[${i}]: ${problem}`, `${base}.tolerations`, at);
    });
  }

  private options(h: RuntimeHandler, base: string): void {
    if (h.runtime_type === '') return;
    for (const [key, value] of Object.entries(h.options)) {
      const path = `${base}.options.${key}`;
      const kind = optionKind(h.runtime_type, key);
      if (kind === undefined) {
        const known = knownOptionKeys(h.runtime_type).join(', ');
        this.report(
          'warning',
          `unknown key "${key}" in options of runtime_type ${h.runtime_type} (known: ${known})`,
          path,
          this.source(path),
        );
      } else if (!hasKind(value, kind)) {
        this.report(
          'error',
          `wrong type: expected ${kindName(kind)}, got ${describeValue(value)}`,
          path,
          this.source(path),
        );
      }
    }
  }

  private source(modelKey: string): Origin | undefined {
    return this.built.sources.get(modelKey);
  }

  private report(severity: Diagnostic['severity'], message: string, modelKey: string, at: Origin | undefined): void {
    this.diagnostics.push({
      severity,
      message,
      keyPath: at?.keyPath ?? modelKey,
      position: at ? positionOf(at) : { file: this.mainFile, line: 1, column: 1 },
    });
  }
}

/** containerd derives the shim name from the last two dot parts; an absolute path names the shim itself. */
export function isRuntimeTypeForm(runtimeType: string): boolean {
  return runtimeType.startsWith('/') || runtimeType.split('.').filter((p) => p !== '').length >= 2;
}
