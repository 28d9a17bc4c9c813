import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hasErrors, loadConfig } from './load.ts';
import { formatDiagnostic } from './diagnostics.ts';
import { runtimesDirOf } from './runtimes-dir.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'crid-runtimes-dir-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CRI = 'plugins."io.containerd.grpc.v1.cri"';
const MAIN = `version = 2\n[${CRI}.containerd.runtimes.runc]\n  runtime_type = "io.containerd.runc.v2"\n`;

function layout(name: string, main: string, dropIns: Record<string, string>, dirName = 'runtimes.d'): string {
  const dir = path.join(tmp, name);
  mkdirSync(path.join(dir, dirName), { recursive: true });
  writeFileSync(path.join(dir, 'crid.toml'), main);
  for (const [file, text] of Object.entries(dropIns)) writeFileSync(path.join(dir, dirName, file), text);
  return path.join(dir, 'crid.toml');
}

const load = (file: string) => loadConfig(file, { restrictOomScoreAdjDefault: false });

describe('handler drop-ins', () => {
  it('runtimes.d/<handler>.toml adds a handler named after the file, options and all', () => {
    const main = layout('basic', MAIN, {
      'crun.toml':
        'runtime_type = "io.containerd.runc.v2"\npod_annotations = ["x/*"]\n[options]\n  BinaryName = "crun"\n  Root = "/run/crid/crun"\n',
      '.kata.toml.tmp': 'garbage',
      README: 'not a drop-in',
    });
    const result = load(main);
    expect(result.diagnostics).toEqual([]);
    expect(Object.keys(result.config!.runtimes).sort()).toEqual(['crun', 'runc']);
    expect(result.config!.runtimes.crun).toMatchObject({
      runtime_type: 'io.containerd.runc.v2',
      pod_annotations: ['x/*'],
      options: { BinaryName: 'crun', Root: '/run/crid/crun' },
    });
    const crunFile = path.join(path.dirname(main), 'runtimes.d', 'crun.toml');
    expect(result.files).toEqual([main, crunFile]);
    expect(result.runtimesDir).toBe(path.join(path.dirname(main), 'runtimes.d'));
    expect(result.sources.get('runtimes.crun.options.BinaryName')).toMatchObject({
      file: crunFile,
      line: 4,
      column: 3,
    });
  });

  it('errors and warnings in a drop-in point at file:line:col inside it', () => {
    const main = layout('bad-type', MAIN, {
      'gpu.toml':
        'runtime_type = "io.containerd.runc.v2"\nruntime_tpye = "x"\n[options]\n  SystemdCgroup = "yes"\n  Bogus = 1\n',
    });
    const file = path.join(path.dirname(main), 'runtimes.d', 'gpu.toml');
    const lines = load(main).diagnostics.map(formatDiagnostic);
    expect(lines).toContain(
      `${file}:4:3: error: wrong type: expected a boolean, got a string ("yes") [options.SystemdCgroup]`,
    );
    expect(lines).toContain(`${file}:2:1: warning: unknown key "runtime_tpye" [runtime_tpye]`);
    expect(lines.some((l) => l.startsWith(`${file}:5:3: warning: unknown key "Bogus" in options`))).toBe(true);
  });

  it('malformed TOML in a drop-in is an error with its position', () => {
    const main = layout('syntax', MAIN, { 'kata.toml': 'runtime_type = "io.containerd.kata.v2"\n[options\n' });
    const result = load(main);
    expect(hasErrors(result.diagnostics)).toBe(true);
    expect(result.diagnostics.map(formatDiagnostic)[0]).toMatch(
      new RegExp(`^${path.dirname(main)}/runtimes.d/kata.toml:2:\\d+: error: malformed TOML`),
    );
  });

  it('an empty drop-in declares a handler without runtime_type: an error at the file', () => {
    const main = layout('empty', MAIN, { 'empty.toml': '' });
    const file = path.join(path.dirname(main), 'runtimes.d', 'empty.toml');
    expect(load(main).diagnostics.map(formatDiagnostic)).toContain(
      `${file}:1:1: error: runtime handler "empty" has no runtime_type`,
    );
  });

  it('drop-ins add to the built-in runc when the files declare no handler', () => {
    const main = layout('builtin', 'version = 2\n', { 'kata.toml': 'runtime_type = "io.containerd.kata.v2"\n' });
    const result = load(main);
    expect(result.diagnostics).toEqual([]);
    expect(Object.keys(result.config!.runtimes)).toEqual(['runc', 'kata']);
  });

  it('a drop-in naming a handler of config.toml is an error naming both files', () => {
    const main = layout('clash', MAIN, { 'runc.toml': 'runtime_type = "io.containerd.runc.v2"\n' });
    const file = path.join(path.dirname(main), 'runtimes.d', 'runc.toml');
    const result = load(main);
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      `${file}:1:1: error: drop-in ${file} defines handler "runc", which ${main}:2:1 already defines`,
    ]);
    expect(result.config!.runtimes.runc!.runtime_type).toBe('io.containerd.runc.v2');
  });

  it('[crid] runtimes_dir moves the directory, relative to the main file; a missing directory is no error', () => {
    const main = layout(
      'moved',
      `${MAIN}[crid]\n  runtimes_dir = "handlers"\n`,
      { 'kata.toml': 'runtime_type = "io.containerd.kata.v2"\n' },
      'handlers',
    );
    expect(Object.keys(load(main).config!.runtimes).sort()).toEqual(['kata', 'runc']);
    const none = layout('none', `${MAIN}[crid]\n  runtimes_dir = "/nonexistent/crid-runtimes"\n`, {});
    expect(load(none).diagnostics).toEqual([]);
    expect(runtimesDirOf('/etc/crid/crid.toml', '')).toBe('/etc/crid/runtimes.d');
    expect(runtimesDirOf('/etc/crid/crid.toml', '/opt/r')).toBe('/opt/r');
  });
});
