import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from './load.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'crid-cri-settings-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function load(text: string) {
  const file = path.join(tmp, 'config.toml');
  writeFileSync(file, text);
  const { config, diagnostics } = loadConfig(file, { restrictOomScoreAdjDefault: false });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return config!;
}

describe('CDI settings', () => {
  it('reads enable_cdi and cdi_spec_dirs', () => {
    const config = load(
      'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  enable_cdi = true\n  cdi_spec_dirs = ["/opt/cdi"]\n',
    );
    expect([config.enable_cdi, config.cdi_spec_dirs]).toEqual([true, ['/opt/cdi']]);
  });

  it("defaults as containerd: off in 1.x layouts, on in 2.x's, /etc/cdi then /var/run/cdi", () => {
    expect(load('version = 2\n')).toMatchObject({ enable_cdi: false, cdi_spec_dirs: ['/etc/cdi', '/var/run/cdi'] });
    expect(load('version = 3\n').enable_cdi).toBe(true);
    expect(load('version = 3\n[plugins."io.containerd.cri.v1.runtime"]\n  enable_cdi = false\n').enable_cdi).toBe(
      false,
    );
  });
});

describe('pull settings', () => {
  it("reads max_concurrent_downloads and image_pull_progress_timeout, with containerd's defaults", () => {
    expect(load('version = 2\n')).toMatchObject({ max_concurrent_downloads: 3, image_pull_progress_timeout: '5m0s' });
    const config = load(
      'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  max_concurrent_downloads = 1\n  image_pull_progress_timeout = "30s"\n',
    );
    expect([config.max_concurrent_downloads, config.image_pull_progress_timeout]).toEqual([1, '30s']);
  });
});

describe('inline registry settings', () => {
  it('reads registry.mirrors and registry.configs, with the deprecation warning', () => {
    const file = path.join(tmp, 'registry.toml');
    const R = 'plugins."io.containerd.grpc.v1.cri".registry';
    writeFileSync(
      file,
      `version = 2
[${R}.mirrors."docker.io"]
  endpoint = ["https://mirror.example"]
[${R}.configs."mirror.example".auth]
  username = "u"
  password = "p"
[${R}.configs."mirror.example".tls]
  ca_file = "/etc/ca.pem"
  insecure_skip_verify = true
`,
    );
    const { config, diagnostics } = loadConfig(file, { restrictOomScoreAdjDefault: false });
    expect(config!.registry_mirrors).toEqual({ 'docker.io': ['https://mirror.example'] });
    expect(config!.registry_configs['mirror.example']).toEqual({
      auth: { username: 'u', password: 'p', auth: '', identitytoken: '' },
      tls: { ca_file: '/etc/ca.pem', cert_file: '', key_file: '', insecure_skip_verify: true },
    });
    expect(diagnostics.map((d) => d.message)).toEqual(
      expect.arrayContaining([expect.stringContaining('`mirrors` is deprecated')]),
    );
  });
});

describe('inline registry settings next to config_path', () => {
  it('are warned about at their key: config_path wins', () => {
    const file = path.join(tmp, 'both.toml');
    const R = 'plugins."io.containerd.grpc.v1.cri".registry';
    writeFileSync(
      file,
      `version = 2\n[${R}]\n  config_path = "/etc/containerd/certs.d"\n[${R}.mirrors."docker.io"]\n  endpoint = ["https://mirror.example"]\n`,
    );
    const warnings = loadConfig(file, { restrictOomScoreAdjDefault: false }).diagnostics.filter((d) =>
      d.message.includes('config_path` is set'),
    );
    expect(warnings.map((d) => [d.position?.line, d.message])).toEqual([
      [
        4,
        '`registry.mirrors` has no effect: `registry.config_path` is set and wins (put these settings in its hosts.toml files)',
      ],
    ]);
  });
});

describe('pull settings that cannot work', () => {
  it('are errors at their key', () => {
    const file = path.join(tmp, 'bad-pull.toml');
    writeFileSync(
      file,
      'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  max_concurrent_downloads = 0\n  image_pull_progress_timeout = "5 minutes"\n',
    );
    const errors = loadConfig(file, { restrictOomScoreAdjDefault: false }).diagnostics.filter(
      (d) => d.severity === 'error',
    );
    expect(errors.map((d) => [d.position?.line, d.message])).toEqual([
      [4, 'image_pull_progress_timeout: "5 minutes" is not a duration such as "4h0m0s" or "30s"'],
      [3, 'max_concurrent_downloads must be at least 1, got 0'],
    ]);
  });
});
