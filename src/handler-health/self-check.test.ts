import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CridConfig, RuntimeHandler } from '../config/model.ts';
import { emptyHandler } from '../config/defaults.ts';
import { silentLogger } from '../log.ts';
import { checkHandler } from './self-check.ts';
import { HandlerHealth } from './health.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'crid-self-check-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function runcType(name: string, options: Record<string, unknown>): RuntimeHandler {
  return { ...emptyHandler(name), runtime_type: 'io.containerd.runc.v2', options };
}

function script(name: string, body: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('checkHandler', () => {
  it('runc via the runc v2 shim: shim, runc --version and features, root created', async () => {
    const root = path.join(tmp, 'runc-root');
    const r = await checkHandler(runcType('runc', { Root: root }), { searchPath: PATH });
    expect(r).toMatchObject({ handler: 'runc', ok: true, reason: '', shim: '/usr/bin/containerd-shim-runc-v2' });
    expect(r.runtime).toMatchObject({ binary: '/usr/sbin/runc', features: true });
    expect(r.runtime!.version).toMatch(/^runc version 1\./);
    expect(existsSync(root)).toBe(true);
    expect(Date.parse(r.checkedAt)).not.toBeNaN();
  });

  it('crun 1.8 has no `features` command: still passes (only a deep check finds its cgroup problem here)', async () => {
    const r = await checkHandler(runcType('crun', { BinaryName: 'crun', Root: path.join(tmp, 'crun-root') }), {
      searchPath: PATH,
    });
    expect(r.ok).toBe(true);
    expect(r.runtime).toMatchObject({ binary: '/usr/bin/crun', features: false });
  });

  it('the legacy v1 shim with runtime_engine and runtime_root', async () => {
    const h = {
      ...emptyHandler('runc-v1'),
      runtime_type: 'io.containerd.runtime.v1.linux',
      runtime_engine: 'runc',
      runtime_root: path.join(tmp, 'v1-root'),
    };
    expect(await checkHandler(h, { searchPath: PATH })).toMatchObject({ ok: true, shim: '/usr/bin/containerd-shim' });
  });

  it('a missing OCI runtime names it and the PATH', async () => {
    const r = await checkHandler(runcType('gone', { BinaryName: 'no-such-runtime', Root: path.join(tmp, 'gone') }), {
      searchPath: PATH,
    });
    expect(r).toMatchObject({ ok: false, reason: `OCI runtime "no-such-runtime" not found in PATH (${PATH})` });
  });

  it('a runtime that fails --version is reported with its own message', async () => {
    const broken = script('broken-runtime', 'echo "libfoo.so: cannot open shared object file" >&2; exit 127');
    const r = await checkHandler(runcType('broken', { BinaryName: broken, Root: path.join(tmp, 'broken') }), {
      searchPath: PATH,
    });
    expect(r.ok).toBe(false);
    expect(r.reason).toBe(`OCI runtime ${broken} --version: exit code 127: libfoo.so: cannot open shared object file`);
  });

  it('a runtime that does not answer is killed after the timeout', async () => {
    const hung = script('hung-runtime', 'exec sleep 30');
    const r = await checkHandler(runcType('hung', { BinaryName: hung, Root: path.join(tmp, 'hung') }), {
      searchPath: PATH,
      timeoutMs: 200,
    });
    expect(r).toMatchObject({ ok: false, reason: `OCI runtime ${hung} --version: no answer within 200 ms` });
  });

  it('features that answer garbage fail the check', async () => {
    const odd = script('odd-runtime', 'if [ "$1" = features ]; then echo not-json; fi; echo "odd version 1"');
    const r = await checkHandler(runcType('odd', { BinaryName: odd, Root: path.join(tmp, 'odd') }), {
      searchPath: PATH,
    });
    expect(r.reason).toMatch(/^OCI runtime .*odd-runtime features: output is not JSON/);
  });

  it('a root that cannot be created is reported', async () => {
    const file = path.join(tmp, 'a-file');
    writeFileSync(file, '');
    const r = await checkHandler(runcType('ro', { Root: path.join(file, 'root') }), { searchPath: PATH });
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(new RegExp(`^OCI runtime root ${file}/root is not writable: ENOTDIR`));
  });

  it("a shim that is not installed (kata) fails with containerd's words; other shims skip the runtime step", async () => {
    const kata = { ...emptyHandler('kata'), runtime_type: 'io.containerd.kata.v2' };
    expect(await checkHandler(kata, { searchPath: PATH })).toMatchObject({
      ok: false,
      reason:
        'shim: runtime "io.containerd.kata.v2" binary not installed "containerd-shim-kata-v2": file does not exist',
    });
    const custom = { ...kata, runtime_path: script('containerd-shim-fake-v2', 'exit 0') };
    const customResult = await checkHandler(custom, { searchPath: PATH });
    expect(customResult.ok).toBe(true);
    expect(customResult.runtime).toBeUndefined();
    const withConfig = { ...custom, options: { ConfigPath: path.join(tmp, 'no-such-config.toml') } };
    expect((await checkHandler(withConfig, { searchPath: PATH })).reason).toMatch(
      /^options.ConfigPath .*no-such-config.toml is not readable/,
    );
  });
});

function config(runtimes: RuntimeHandler[]): CridConfig {
  return { runtimes: Object.fromEntries(runtimes.map((h) => [h.name, h])) } as unknown as CridConfig;
}

describe('HandlerHealth', () => {
  const good = runcType('runc', { Root: path.join(tmp, 'h-runc') });
  const bad = runcType('bad', { BinaryName: 'no-such-runtime' });

  it('keeps the latest result per handler; failed() gives the reason', async () => {
    const health = new HandlerHealth({ log: silentLogger, shallow: { searchPath: PATH } });
    const results = await health.check(config([good, bad]));
    expect(results.map((r) => [r.handler, r.ok])).toEqual([
      ['bad', false],
      ['runc', true],
    ]);
    expect(health.failed('runc')).toBeUndefined();
    expect(health.failed('bad')).toMatch(/^OCI runtime "no-such-runtime" not found/);
    expect(health.failed('never-checked')).toBeUndefined();
    await health.check(config([good]));
    expect(health.all().map((r) => r.handler)).toEqual(['runc']);
  });

  it('an unknown handler is an error listing the configured ones', async () => {
    const health = new HandlerHealth({ log: silentLogger, shallow: { searchPath: PATH } });
    await expect(health.check(config([good, bad]), { only: 'nope' })).rejects.toThrow(
      'unknown handler "nope" (configured handlers: bad, runc)',
    );
  });

  it('a deep check runs a pause sandbox; its failure makes failed() answer until the settings change', async () => {
    const calls: string[] = [];
    const health = new HandlerHealth({
      log: silentLogger,
      shallow: { searchPath: PATH },
      runPauseSandbox: async (handler) => {
        calls.push(handler);
        throw new Error('crun: cannot find hugetlb controller');
      },
    });
    const r = await health.checkDeep(config([good]), 'runc');
    expect(calls).toEqual(['runc']);
    expect(r.ok).toBe(true);
    expect(r.deep).toMatchObject({ ok: false, reason: 'deep check: crun: cannot find hugetlb controller' });
    expect(health.failed('runc')).toBe('deep check: crun: cannot find hugetlb controller');
    await health.check(config([good]));
    expect(health.failed('runc')).toBe('deep check: crun: cannot find hugetlb controller');
    await health.check(config([{ ...good, options: { ...good.options, SystemdCgroup: false } }]));
    expect(health.failed('runc')).toBeUndefined();
  });

  it('a deep check is skipped when the shallow one fails, and times out when the pod never comes back', async () => {
    let signalled = false;
    const health = new HandlerHealth({
      log: silentLogger,
      shallow: { searchPath: PATH },
      deepTimeoutMs: 100,
      runPauseSandbox: (_handler, signal) =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => {
            signalled = true;
            reject(new Error('aborted'));
          }),
        ),
    });
    expect((await health.checkDeep(config([bad]), 'bad')).deep).toBeUndefined();
    const r = await health.checkDeep(config([good]), 'runc');
    expect(r.deep).toMatchObject({ ok: false });
    expect(r.deep!.reason).toMatch(/^deep check: (deep check timed out after 0.1 s|aborted)$/);
    expect(signalled).toBe(true);
  });

  it('a passing deep check records its time; without a pod runner deep checks are refused', async () => {
    const health = new HandlerHealth({
      log: silentLogger,
      shallow: { searchPath: PATH },
      runPauseSandbox: async () => ({ seconds: 1.25 }),
    });
    expect((await health.check(config([good]), { deep: true }))[0]!.deep).toMatchObject({
      ok: true,
      reason: '',
      seconds: 1.25,
    });
    const local = new HandlerHealth({ log: silentLogger, shallow: { searchPath: PATH } });
    await expect(local.checkDeep(config([good]), 'runc')).rejects.toThrow(/running daemon/);
  });
});
