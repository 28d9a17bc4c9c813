import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from './load.ts';
import { formatDiagnostic } from './diagnostics.ts';
import { CRID_DEFAULTS } from './defaults.ts';

const fixtures = path.resolve(import.meta.dirname, '../../test/config/fixtures');
const tmp = mkdtempSync(path.join(tmpdir(), 'crid-config-load-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(tmp, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

const load = (file: string) => loadConfig(file, { restrictOomScoreAdjDefault: false });
const CRI = 'plugins."io.containerd.grpc.v1.cri"';

describe('the example files', () => {
  it('version 1: legacy default_runtime becomes handler "default" and the default name', () => {
    const { config, diagnostics } = load(path.join(fixtures, 'containerd-config-v1.toml'));
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(config!.version).toBe(1);
    expect(config!.default_runtime_name).toBe('default');
    expect(Object.keys(config!.runtimes).sort()).toEqual(['crun', 'default', 'legacy', 'runc', 'untrusted']);
    expect(config!.runtimes.default).toMatchObject({
      runtime_type: 'io.containerd.runc.v2',
      options: { SystemdCgroup: false },
    });
    expect(config!.runtimes.untrusted!.runtime_type).toBe('io.containerd.kata.v2');
    expect(config!.runtimes.runc!.options).toEqual({ BinaryName: '/usr/sbin/runc', Root: '/run/containerd/runc' });
    expect(config!.runtimes.crun!.options).toEqual({ BinaryName: '/usr/bin/crun' });
    expect(config!.runtimes.legacy).toMatchObject({
      runtime_type: 'io.containerd.runtime.v1.linux',
      runtime_engine: 'runc',
      runtime_root: '/run/containerd/runc-legacy',
    });
    expect(config!.sandbox_image).toBe('registry.k8s.io/pause:3.6');
    expect(config!.snapshotter).toBe('overlayfs');
  });

  it('version 1: deprecations are warnings at their keys', () => {
    const file = path.join(fixtures, 'containerd-config-v1.toml');
    const warnings = load(file).diagnostics.map(formatDiagnostic);
    expect(warnings).toContain(
      `${file}:8:1: warning: containerd config version \`1\` has been deprecated and will be removed in containerd v2.0, please switch to version \`2\` [version]`,
    );
    expect(warnings.some((w) => w.startsWith(`${file}:16:5: warning: \`default_runtime\` is deprecated`))).toBe(true);
    expect(
      warnings.some((w) => w.startsWith(`${file}:21:5: warning: \`untrusted_workload_runtime\` is deprecated`)),
    ).toBe(true);
    expect(warnings.some((w) => w.startsWith(`${file}:39:7: warning: \`runtime_engine\` is deprecated`))).toBe(true);
  });

  it('version 2', () => {
    const { config, diagnostics } = load(path.join(fixtures, 'containerd-config-v2.toml'));
    expect(diagnostics).toEqual([]);
    expect(config!.default_runtime_name).toBe('runc');
    expect(config!.enable_unprivileged_ports).toBe(false);
    expect(Object.keys(config!.runtimes).sort()).toEqual(['crun', 'custom', 'kata', 'runc']);
    expect(config!.runtimes.runc!.options).toEqual({ SystemdCgroup: false });
    expect(config!.runtimes.crun).toMatchObject({
      runtime_type: 'io.containerd.runc.v2',
      pod_annotations: ['example.com/*'],
      container_annotations: ['example.com/device'],
      options: { BinaryName: '/usr/bin/crun', Root: '/run/containerd/crun' },
    });
    expect(config!.runtimes.kata).toMatchObject({
      runtime_type: 'io.containerd.kata.v2',
      privileged_without_host_devices: true,
      pod_annotations: ['io.katacontainers.*'],
      options: { ConfigPath: '/etc/kata-containers/configuration.toml' },
    });
    expect(config!.runtimes.custom).toMatchObject({
      runtime_path: '/usr/bin/containerd-shim-runc-v2',
      cni_conf_dir: '/etc/cni/net.d',
      cni_max_conf_num: 1,
      options: {},
      sandbox_mode: 'podsandbox',
    });
  });

  it('version 3: images and streaming settings from their own plugins', () => {
    const { config, diagnostics } = load(path.join(fixtures, 'containerd-config-v3.toml'));
    expect(diagnostics).toEqual([]);
    expect(config!.version).toBe(3);
    expect(config!.default_runtime_name).toBe('runc');
    expect(Object.keys(config!.runtimes).sort()).toEqual(['crun', 'kata', 'runc']);
    expect(config!.runtimes.runc!.options).toEqual({ SystemdCgroup: true });
    expect(config!.runtimes.kata).toMatchObject({
      runtime_path: '/opt/kata/bin/containerd-shim-kata-v2',
      snapshotter: 'overlayfs',
      sandbox_mode: 'podsandbox',
      privileged_without_host_devices: true,
    });
    expect(config!.sandbox_image).toBe('registry.k8s.io/pause:3.10');
    expect(config!.snapshotter).toBe('overlayfs');
    expect(config!.stream_server_port).toBe('0');
    // containerd 2.x defaults
    expect(config!.enable_unprivileged_ports).toBe(true);
    expect(config!.enable_unprivileged_icmp).toBe(true);
  });

  it('v2 and v3 files describing the same handlers give the same handler model', () => {
    const v2 = write(
      'same-v2.toml',
      `version = 2\n[${CRI}.containerd.runtimes.crun]\nruntime_type = "io.containerd.runc.v2"\nsandbox_mode = "shim"\n[${CRI}.containerd.runtimes.crun.options]\nBinaryName = "crun"\n[${CRI}.cni]\nbin_dir = "/x"\n`,
    );
    const v3 = write(
      'same-v3.toml',
      `version = 3\n[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.crun]\nruntime_type = "io.containerd.runc.v2"\nsandboxer = "shim"\n[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.crun.options]\nBinaryName = "crun"\n[plugins."io.containerd.cri.v1.runtime".cni]\nbin_dirs = ["/x"]\n`,
    );
    const a = load(v2).config!;
    const b = load(v3).config!;
    expect(a.runtimes).toEqual(b.runtimes);
    expect(a.cni).toEqual(b.cni);
  });
});

describe('defaults', () => {
  it('an empty file gives containerd defaults, the built-in runc handler and [crid] defaults', () => {
    const { config, diagnostics } = load(write('empty.toml', 'version = 2\n'));
    expect(diagnostics).toEqual([]);
    expect(config!.default_runtime_name).toBe('runc');
    expect(Object.keys(config!.runtimes)).toEqual(['runc']);
    expect(config!.runtimes.runc!.runtime_type).toBe('io.containerd.runc.v2');
    expect(config!.sandbox_image).toBe('registry.k8s.io/pause:3.10');
    expect(config!.cni).toEqual({
      bin_dirs: ['/usr/lib/cni', '/opt/cni/bin'],
      conf_dir: '/etc/cni/net.d',
      max_conf_num: 1,
    });
    expect(config!.crid).toEqual({
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
    });
    expect(config!.restrict_oom_score_adj).toBe(false);
    expect(
      loadConfig(write('empty2.toml', ''), { restrictOomScoreAdjDefault: true }).config!.restrict_oom_score_adj,
    ).toBe(true);
  });

  it('a runtimes table replaces the built-in runc, as in containerd (then "runc" is an unknown default)', () => {
    const file = write(
      'no-runc.toml',
      `version = 2\n[${CRI}.containerd.runtimes.crun]\n  runtime_type = "io.containerd.runc.v2"\n`,
    );
    const { config, diagnostics } = load(file);
    expect(Object.keys(config!.runtimes)).toEqual(['crun']);
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      `${file}:2:1: error: no corresponding runtime configured in \`containerd.runtimes\` for \`containerd\` \`default_runtime_name = "runc"\` [default_runtime_name]`,
    ]);
  });

  it('[crid] overrides crid settings', () => {
    const { config } = load(write('crid.toml', '[crid]\nsocket = "/tmp/x.sock"\ndeep_check_on_start = true\n'));
    expect(config!.crid).toEqual({ ...CRID_DEFAULTS, socket: '/tmp/x.sock', deep_check_on_start: true });
  });
});

describe('imports', () => {
  const main = (imports: string) =>
    `version = 2\nimports = ${imports}\n[${CRI}]\n  sandbox_image = "main/pause"\n[${CRI}.containerd.runtimes.runc]\n  runtime_type = "io.containerd.runc.v2"\n  [${CRI}.containerd.runtimes.runc.options]\n    BinaryName = "runc"\n    Root = "/run/main"\n[${CRI}.cni]\n  conf_dir = "/main/net.d"\n`;

  it('merges key by key: a drop-in overrides what it sets and keeps the rest', () => {
    write(
      'm1/conf.d/10-crun.toml',
      `version = 2\n[${CRI}.containerd.runtimes.crun]\n  runtime_type = "io.containerd.runc.v2"\n  [${CRI}.containerd.runtimes.crun.options]\n    BinaryName = "crun"\n`,
    );
    write(
      'm1/conf.d/20-root.toml',
      `version = 2\n[${CRI}.containerd.runtimes.runc.options]\n  Root = "/run/dropin"\n[${CRI}]\n  sandbox_image = "dropin/pause"\n`,
    );
    const file = write('m1/main.toml', main('["conf.d/*.toml"]'));
    const { config, diagnostics, files, sources } = load(file);
    expect(diagnostics).toEqual([]);
    expect(files).toEqual([file, path.join(tmp, 'm1/conf.d/10-crun.toml'), path.join(tmp, 'm1/conf.d/20-root.toml')]);
    expect(Object.keys(config!.runtimes).sort()).toEqual(['crun', 'runc']);
    expect(config!.runtimes.runc!.options).toEqual({ BinaryName: 'runc', Root: '/run/dropin' });
    expect(config!.sandbox_image).toBe('dropin/pause');
    expect(config!.cni.conf_dir).toBe('/main/net.d');
    expect(sources.get('runtimes.runc.options.Root')).toMatchObject({
      file: path.join(tmp, 'm1/conf.d/20-root.toml'),
      line: 3,
      column: 3,
    });
    expect(sources.get('runtimes.runc.options.BinaryName')).toMatchObject({ file, line: 8, column: 5 });
    expect(sources.get('runtimes.crun.options.BinaryName')!.file).toBe(path.join(tmp, 'm1/conf.d/10-crun.toml'));
  });

  it('a relative plain path is relative to the importing file; nested imports and cycles load once', () => {
    write('m2/sub/a.toml', `version = 2\nimports = ["b.toml", "../main.toml"]\n[${CRI}.cni]\n  conf_dir = "/from/a"\n`);
    write('m2/sub/b.toml', `version = 2\n[${CRI}.cni]\n  max_conf_num = 3\n`);
    const file = write('m2/main.toml', main('["sub/a.toml"]'));
    const { config, files, diagnostics } = load(file);
    expect(diagnostics).toEqual([]);
    expect(files).toEqual([file, path.join(tmp, 'm2/sub/a.toml'), path.join(tmp, 'm2/sub/b.toml')]);
    expect(config!.cni).toMatchObject({ conf_dir: '/from/a', max_conf_num: 3 });
  });

  it('a missing plain import is an error at the imports key; a glob without matches is not', () => {
    const file = write('m3/main.toml', main('["none/*.toml", "missing.toml"]'));
    expect(load(file).diagnostics.map(formatDiagnostic)).toEqual([
      `${file}:2:1: error: imported config file ${path.join(tmp, 'm3/missing.toml')} does not exist [imports]`,
    ]);
  });

  it('a drop-in with a higher version than the main file is an error', () => {
    const dropin = write('m4/d.toml', 'version = 3\n');
    const { config, diagnostics } = load(write('m4/main.toml', main('["d.toml"]')));
    expect(config).toBeUndefined();
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      `${dropin}:1:1: error: drop-in config version 3 higher than root config version 2 [version]`,
    ]);
  });

  it('a version-2 drop-in extends a version-3 main file', () => {
    write('m5/d.toml', `version = 2\n[${CRI}.containerd.runtimes.crun]\n  runtime_type = "io.containerd.runc.v2"\n`);
    const file = write(
      'm5/main.toml',
      `version = 3\nimports = ["d.toml"]\n[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]\n  runtime_type = "io.containerd.runc.v2"\n`,
    );
    const { config, diagnostics } = load(file);
    expect(diagnostics).toEqual([]);
    expect(Object.keys(config!.runtimes).sort()).toEqual(['crun', 'runc']);
  });
});

describe("containerd's own default config", () => {
  it('loads without diagnostics into the same handlers as crid defaults', () => {
    const { config, diagnostics } = load(path.join(fixtures, 'containerd-1.6-default.toml'));
    expect(diagnostics).toEqual([]);
    expect(config!.default_runtime_name).toBe('runc');
    expect(Object.keys(config!.runtimes)).toEqual(['runc']);
    expect(config!.runtimes.runc!.runtime_type).toBe('io.containerd.runc.v2');
    expect(config!.cni.bin_dirs).toEqual(['/opt/cni/bin']);
  });
});
