import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger } from '../log.ts';
import { loadConfigOrThrow } from './load.ts';
import { formatDiagnostic } from './diagnostics.ts';
import { diffConfigs, formatDiff } from './config-diff.ts';
import { ConfigHolder, type ConfigHolderOptions } from './reload.ts';
import { CridMetrics } from '../metrics/metrics.ts';
import { HandlerHealth } from '../handler-health/health.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'crid-reload-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const holders: ConfigHolder[] = [];
afterEach(() => {
  for (const h of holders.splice(0)) h.close();
});

const CRI = 'plugins."io.containerd.grpc.v1.cri"';
const opts = { restrictOomScoreAdjDefault: false };

function mainText(extra = '', crun = 'crun'): string {
  return `version = 2
[${CRI}]
  sandbox_image = "pause:1"
[${CRI}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[${CRI}.containerd.runtimes.crun]
  runtime_type = "io.containerd.runc.v2"
  [${CRI}.containerd.runtimes.crun.options]
    BinaryName = "${crun}"
${extra}`;
}

function setup(name: string, onApplied?: ConfigHolderOptions['onApplied']) {
  const text = mainText();
  const dir = path.join(tmp, name);
  mkdirSync(path.join(dir, 'runtimes.d'), { recursive: true });
  const file = path.join(dir, 'crid.toml');
  writeFileSync(file, text);
  const metrics = new CridMetrics();
  const health = new HandlerHealth({ log: silentLogger });
  const holder = new ConfigHolder({
    path: file,
    config: loadConfigOrThrow(file, opts).config,
    log: silentLogger,
    onReloaded: (ok) => metrics.configReloaded(ok),
    recheck: (c) => health.check(c),
    loadOptions: opts,
    onApplied,
  });
  holders.push(holder);
  return { dir, file, holder, metrics, health, dropIn: (n: string) => path.join(dir, 'runtimes.d', n) };
}

describe('diffConfigs / formatDiff', () => {
  it('names handlers added, removed, each changed key, live settings and restart-only settings', () => {
    const { file } = setup('diff');
    const old = loadConfigOrThrow(file, opts).config;
    writeFileSync(
      file,
      `version = 2
[${CRI}]
  sandbox_image = "pause:2"
[${CRI}.containerd]
  default_runtime_name = "crun"
[${CRI}.containerd.runtimes.crun]
  runtime_type = "io.containerd.runc.v2"
  [${CRI}.containerd.runtimes.crun.options]
    BinaryName = "crun2"
[${CRI}.containerd.runtimes.kata]
  runtime_type = "io.containerd.kata.v2"
[crid]
  socket = "/run/other.sock"
`,
    );
    const diff = diffConfigs(old, loadConfigOrThrow(file, opts).config);
    expect(diff).toEqual({
      added: ['kata'],
      removed: ['runc'],
      changed: [{ handler: 'crun', changes: [{ key: 'options.BinaryName', from: 'crun', to: 'crun2' }] }],
      settings: [
        { key: 'default_runtime_name', from: 'runc', to: 'crun' },
        { key: 'sandbox_image', from: 'pause:1', to: 'pause:2' },
      ],
      restartNeeded: [{ key: 'crid.socket', from: '/run/crid/crid.sock', to: '/run/other.sock' }],
    });
    expect(formatDiff(diff)).toBe(
      'handler added: kata\nhandler removed: runc\nhandler changed: crun\n  options.BinaryName: "crun" → "crun2"\n' +
        'setting changed: default_runtime_name: "runc" → "crun"\nsetting changed: sandbox_image: "pause:1" → "pause:2"\n' +
        'needs a restart (running value kept): crid.socket: "/run/crid/crid.sock" → "/run/other.sock"\n',
    );
    expect(formatDiff(diffConfigs(old, old))).toBe('no changes\n');
  });
});

describe('ConfigHolder.reload', () => {
  it('applies a valid config, keeps restart-only values, re-checks handlers and counts the reload', async () => {
    const { file, holder, metrics, health } = setup('apply');
    writeFileSync(file, mainText(`[crid]\n  state = "/tmp/elsewhere"\n`, 'no-such-runtime'));
    const result = await holder.reload();
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.diff.restartNeeded.map((c) => c.key)).toEqual(['crid.state']);
    expect(holder.current().crid.state).toBe('/run/crid');
    expect(holder.current().runtimes.crun!.options.BinaryName).toBe('no-such-runtime');
    expect(health.failed('crun')).toMatch(/OCI runtime "no-such-runtime" not found/);
    expect(await metrics.scrape()).toContain('crid_config_reloads_total{result="success"} 1');
  });

  it('rejects a broken config with positioned errors; the old config stays; metrics show the failure', async () => {
    const { file, holder, metrics } = setup('broken');
    const before = holder.current();
    writeFileSync(file, mainText().replace('BinaryName = "crun"', 'BinaryName = 42'));
    const result = await holder.reload();
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map(formatDiagnostic)).toEqual([
      `${file}:9:5: error: wrong type: expected a string, got a number (42) [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun.options.BinaryName]`,
    ]);
    expect(holder.current()).toBe(before);
    const text = await metrics.scrape();
    expect(text).toContain('crid_config_reloads_total{result="failure"} 1');
    expect(text).toContain('crid_config_last_reload_success 0');
  });

  it('the adjust hook applies command-line overrides before comparing', async () => {
    const dir = path.join(tmp, 'adjust');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'crid.toml');
    writeFileSync(file, mainText());
    const config = loadConfigOrThrow(file, opts).config;
    config.crid.socket = '/tmp/flag.sock';
    const holder = new ConfigHolder({
      path: file,
      config,
      log: silentLogger,
      loadOptions: opts,
      adjust: (c) => {
        c.crid.socket = '/tmp/flag.sock';
      },
    });
    const result = await holder.reload();
    expect(result.ok && result.diff.restartNeeded).toEqual([]);
  });
});

describe('drop-in directory watching', () => {
  it('writing a drop-in adds a handler, deleting it removes it, a broken one is rejected and the old config stays', async () => {
    const applied: string[][] = [];
    const { holder, dropIn, metrics } = setup('watch', (_config, diff) => applied.push(diff.added));
    holder.watchRuntimesDir(20);

    writeFileSync(dropIn('kata.toml'), 'runtime_type = "io.containerd.kata.v2"\n');
    await vi.waitFor(() => expect(Object.keys(holder.current().runtimes)).toContain('kata'), { timeout: 5000 });

    writeFileSync(dropIn('gpu.toml'), 'runtime_type = "io.containerd.runc.v2"\n[options\n');
    await vi.waitFor(
      async () => expect(await metrics.scrape()).toContain('crid_config_reloads_total{result="failure"} 1'),
      { timeout: 5000 },
    );
    expect(Object.keys(holder.current().runtimes).sort()).toEqual(['crun', 'kata', 'runc']);
    const rejected = await holder.reload();
    expect(!rejected.ok && rejected.errors.map(formatDiagnostic)[0]).toMatch(
      new RegExp(`^${dropIn('gpu.toml')}:2:\\d+: error: malformed TOML`),
    );

    unlinkSync(dropIn('gpu.toml'));
    unlinkSync(dropIn('kata.toml'));
    await vi.waitFor(() => expect(Object.keys(holder.current().runtimes).sort()).toEqual(['crun', 'runc']), {
      timeout: 5000,
    });
    expect(applied[0]).toEqual(['kata']);
  });

  it('a drop-in directory created after the start is picked up', async () => {
    const dir = path.join(tmp, 'late');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'crid.toml');
    writeFileSync(file, mainText());
    const holder = new ConfigHolder({
      path: file,
      config: loadConfigOrThrow(file, opts).config,
      log: silentLogger,
      loadOptions: opts,
    });
    holders.push(holder);
    holder.watchRuntimesDir(20);
    mkdirSync(path.join(dir, 'runtimes.d'));
    writeFileSync(path.join(dir, 'runtimes.d', 'kata.toml'), 'runtime_type = "io.containerd.kata.v2"\n');
    await vi.waitFor(() => expect(Object.keys(holder.current().runtimes)).toContain('kata'), { timeout: 5000 });
  });
});
