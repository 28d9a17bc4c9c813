import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { runConfigCommand } from './config-command.ts';
import { loadConfig } from '../config/load.ts';

const repo = path.resolve(import.meta.dirname, '../..');
const shipped = path.join(repo, 'config/crid.toml');
const tmp = mkdtempSync(path.join(tmpdir(), 'crid-config-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(argv: string[], env: NodeJS.ProcessEnv = {}): { code: number; out: string; err: string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const code = runConfigCommand(argv, { stdout, stderr, env }) as number;
  return { code, out: String(stdout.read() ?? ''), err: String(stderr.read() ?? '') };
}

describe('crid config check', () => {
  it('the shipped config/crid.toml has no errors', () => {
    const { code, out } = run(['check', '--config', shipped]);
    expect(code).toBe(0);
    expect(out).not.toContain(': error:');
    expect(out).toMatch(/crid\.toml: 0 errors, \d+ warnings\n$/);
  });

  it('prints errors with positions and exits 1; the config comes from $CRID_CONFIG when no flag', () => {
    const file = path.join(tmp, 'bad.toml');
    writeFileSync(
      file,
      'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd]\n  default_runtime_name = "nope"\n',
    );
    const { code, out } = run(['check'], { CRID_CONFIG: file });
    expect(code).toBe(1);
    expect(out).toBe(
      `${file}:3:3: error: no corresponding runtime configured in \`containerd.runtimes\` for \`containerd\` \`default_runtime_name = "nope"\` [plugins."io.containerd.grpc.v1.cri".containerd.default_runtime_name]\n${file}: 1 error, 0 warnings\n`,
    );
  });

  it('a missing file: says how to write the default one', () => {
    const file = path.join(tmp, 'absent.toml');
    expect(run(['check', '--config', file])).toMatchObject({
      code: 1,
      out: `${file}:1:1: error: no config file here: write the default one with \`crid config default > ${file}\` (scripts/install does)\n${file}: 1 error, 0 warnings\n`,
    });
  });

  it('reports malformed TOML with its position', () => {
    const file = path.join(tmp, 'syntax.toml');
    writeFileSync(file, 'version = 2\n[crid\n');
    const { code, out } = run(['check', '--config', file]);
    expect(code).toBe(1);
    expect(out).toMatch(new RegExp(`^${file}:2:\\d+: error: malformed TOML: `));
  });
});

describe('crid config default', () => {
  it('is the shipped config/crid.toml, byte for byte', () => {
    const { code, out } = run(['default']);
    expect(code).toBe(0);
    expect(out).toBe(readFileSync(shipped, 'utf8'));
  });

  it('loads with no diagnostics: handlers runc (the default) and crun, nothing probed from this machine', () => {
    const a = loadConfig(shipped, { restrictOomScoreAdjDefault: false });
    expect(a.diagnostics).toEqual([]);
    expect(a.config!.default_runtime_name).toBe('runc');
    expect(Object.keys(a.config!.runtimes)).toEqual(['runc', 'crun']);
    expect(a.config!.runtimes.crun!.options).toEqual({
      BinaryName: 'crun',
      Root: '/run/crid/crun',
      SystemdCgroup: false,
    });
    expect(a.sources.has('restrict_oom_score_adj')).toBe(false);
  });
});

describe('crid config dump', () => {
  it('prints the effective config with the file position that set each key, or "default"', () => {
    const dropin = path.join(tmp, 'dropin.toml');
    const main = path.join(tmp, 'main.toml');
    writeFileSync(dropin, 'version = 2\n[crid]\n  socket = "/tmp/dropin.sock"\n');
    writeFileSync(
      main,
      `version = 2\nimports = ["dropin.toml"]\n[crid]\n  socket = "/tmp/main.sock"\n  root = "/tmp/root"\n`,
    );
    const { code, out } = run(['dump', '--config', main]);
    expect(code).toBe(0);
    expect(out).toContain(`#   ${main}\n#   ${dropin}\n`);
    expect(out).toContain(`socket = "/tmp/dropin.sock"  # ${dropin}:3:3\n`);
    expect(out).toContain(`root = "/tmp/root"  # ${main}:5:3\n`);
    expect(out).toContain('state = "/run/crid"  # default\n');
    const json = JSON.parse(run(['dump', '--config', main, '--format', 'json']).out);
    expect(json.config.crid.socket).toBe('/tmp/dropin.sock');
    expect(json.sources['crid.socket']).toBe(`${dropin}:3:3`);
    expect(json.files).toEqual([main, dropin]);
  });
});

describe('crid config dump | crid config check', () => {
  const fixtures = path.join(repo, 'test/config/fixtures');
  const legacyKeys = [
    '`runtime_engine` is deprecated, please use runtime `options` instead',
    '`runtime_root` is deprecated, please use runtime `options` instead',
  ];
  it.each([
    ['containerd-config-v1.toml', legacyKeys],
    ['containerd-config-v2.toml', []],
    ['containerd-config-v3.toml', []],
    ['containerd-1.6-default.toml', []],
  ])('%s: the dump loads back into the same config, warning only about legacy keys it still has', (name, warnings) => {
    const source = loadConfig(path.join(fixtures, name));
    const { code, out } = run(['dump', '--config', path.join(fixtures, name)]);
    expect(code).toBe(0);
    const dumped = path.join(tmp, `dump-${name}`);
    writeFileSync(dumped, out);
    const back = loadConfig(dumped);
    expect(back.diagnostics.map((d) => d.message)).toEqual(warnings);
    expect(back.config).toEqual({ ...source.config, version: 2 });
  });

  it('the dump of a main file with a drop-in checks with 0 errors, 0 warnings', () => {
    const dir = mkdtempSync(path.join(tmp, 'roundtrip-'));
    writeFileSync(
      path.join(dir, 'extra.toml'),
      `version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun]\n  runtime_type = "io.containerd.runc.v2"\n  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun.options]\n    BinaryName = "crun"\n[crid.runtimeclass.crun]\n  overhead_cpu = "10m"\n  tolerations = [{ key = "k", operator = "Exists" }]\n`,
    );
    writeFileSync(
      path.join(dir, 'main.toml'),
      `version = 2\nimports = ["extra.toml"]\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]\n  runtime_type = "io.containerd.runc.v2"\n`,
    );
    const dumped = path.join(tmp, 'dump-main.toml');
    writeFileSync(dumped, run(['dump', '--config', path.join(dir, 'main.toml')]).out);
    expect(run(['check', '--config', dumped])).toMatchObject({ code: 0, out: `${dumped}: 0 errors, 0 warnings\n` });
  });
});

describe('usage', () => {
  it('--help exits 0; unknown commands and flags exit 2', () => {
    expect(run(['--help'])).toMatchObject({ code: 0, out: expect.stringContaining('Usage: crid config') });
    expect(run(['frobnicate']).code).toBe(2);
    expect(run(['check', '--nope']).code).toBe(2);
  });
});
