// Operating handlers on a real crid: self-check gating, live reload (SIGHUP, `crid config reload`,
// drop-in files), metrics per handler and phase, and the RuntimeClass generator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import { freePort } from '../helpers/registry.ts';
import { CRID } from '../helpers/crid-process.ts';
import { startPodEnv, podConfig, type PodEnv } from '../helpers/pod-env.ts';

const CRI = 'plugins."io.containerd.grpc.v1.cri"';

async function eventually<T>(probe: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const value = await probe();
    if (ok(value)) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * An OCI runtime that answers `--version` (so a shallow check passes) and fails every container the
 * way crun 1.8 does on a hybrid cgroup host whose cgroup2 holds a controller: only a deep check finds
 * it out. The real crun runs on the test hosts because the harness moves such controllers to v1.
 */
const CRUN_HYBRID = 'cgroups in hybrid mode not supported, drop all controllers from cgroupv2';
const REMEDY = 'mount -t cgroup -o hugetlb none /sys/fs/cgroup/hugetlb';
const REASON_THEN_REMEDY = new RegExp(`${CRUN_HYBRID}.*${REMEDY.replaceAll('.', '\\.')}`);

const fakeRuntimeDirs: string[] = [];

async function fakeRuntime(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-fake-runtime-'));
  fakeRuntimeDirs.push(dir);
  const file = path.join(dir, 'fake-oci-runtime');
  fs.writeFileSync(
    file,
    `#!/bin/sh
case "$1" in
  --version) echo "fake-oci-runtime version 0.1"; exit 0;;
  features) echo '{"ociVersionMin":"1.0.0","ociVersionMax":"1.1.0"}'; exit 0;;
esac
# like runc and crun, report the failure in the JSON log the shim names with --log
while [ $# -gt 0 ]; do
  if [ "$1" = "--log" ]; then echo '{"msg":"${CRUN_HYBRID}","level":"error","time":"2026-12-06T00:00:00.000000Z"}' >> "$2"; fi
  shift
done
exit 1
`,
    { mode: 0o755 },
  );
  return file;
}

describe('operating handlers', () => {
  let env: PodEnv;
  let metricsPort = 0;
  const handlerNames = async () =>
    (await env.client.runtime.Status({})).runtime_handlers.map((h: { name: string }) => h.name) as string[];

  beforeAll(async () => {
    metricsPort = await freePort();
    env = await startPodEnv({
      metricsAddress: `127.0.0.1:${metricsPort}`,
      extraRuntimes: async () => `[${CRI}.containerd.runtimes.deepfail]
  runtime_type = "io.containerd.runc.v2"
  [${CRI}.containerd.runtimes.deepfail.options]
    BinaryName = "${await fakeRuntime()}"
[${CRI}.containerd.runtimes.broken]
  runtime_type = "io.containerd.runc.v2"
  [${CRI}.containerd.runtimes.broken.options]
    BinaryName = "/nonexistent/runc"
[${CRI}.containerd.runtimes.Bad_Name]
  runtime_type = "io.containerd.runc.v2"
`,
    });
  }, 180_000);

  afterAll(async () => {
    await env?.dispose();
    for (const dir of fakeRuntimeDirs) fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('reports a broken handler in Status and refuses its pods, while the default serves pods', async () => {
    const res = await env.client.runtime.Status({ verbose: true });
    const names = res.runtime_handlers.map((h: { name: string }) => h.name);
    expect(names).toContain('runc');
    expect(names).not.toContain('broken');
    const checks = JSON.parse(res.info.handlers) as Array<{ handler: string; ok: boolean; reason: string }>;
    expect(checks.find((c) => c.handler === 'broken')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('/nonexistent/runc'),
    });
    expect(res.status!.conditions.find((c) => c.type === 'RuntimeReady')!.status).toBe(true);

    const before = (await env.client.runtime.ListPodSandbox({})).items.length;
    await expect(
      env.client.runtime.RunPodSandbox({ config: podConfig('o-broken'), runtime_handler: 'broken' }),
    ).rejects.toMatchObject({
      code: 9,
      details: expect.stringContaining('/nonexistent/runc'),
    });
    expect((await env.client.runtime.ListPodSandbox({})).items.length).toBe(before);

    const { pod_sandbox_id: id } = await env.client.runtime.RunPodSandbox({ config: podConfig('o-default') });
    await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: id });
  });

  it("a deep check finds a runtime that answers --version but cannot run pods, and refuses its pods with the runtime's reason and the remedy", async () => {
    expect(await handlerNames()).toContain('deepfail');
    const check = await execa(CRID, ['check', '--deep', '--handler', 'deepfail', '--config', env.configFile], {
      reject: false,
    });
    expect(`${check.stdout}${check.stderr}`).toContain(CRUN_HYBRID);
    expect(`${check.stdout}${check.stderr}`).toContain(REMEDY);
    expect(await handlerNames()).not.toContain('deepfail');
    const checks = JSON.parse((await env.client.runtime.Status({ verbose: true })).info.handlers) as Array<{
      handler: string;
      deep?: { reason: string };
    }>;
    expect(checks.find((c) => c.handler === 'deepfail')?.deep?.reason).toMatch(REASON_THEN_REMEDY);
    await expect(
      env.client.runtime.RunPodSandbox({ config: podConfig('o-deepfail'), runtime_handler: 'deepfail' }),
    ).rejects.toMatchObject({
      code: 9,
      details: expect.stringMatching(REASON_THEN_REMEDY),
    });
    const ok = await execa(CRID, ['check', '--deep', '--handler', 'runc', '--config', env.configFile]);
    expect(ok.stdout).toMatch(/deep\s+ok/);
    // nothing of the deep checks is left: no pods, no bundles
    expect((await env.client.runtime.ListPodSandbox({})).items).toEqual([]);
    expect(fs.readdirSync(path.join(env.dir, 'state/tasks/k8s.io'))).toEqual([]);
  });

  it('adds a handler from a drop-in file, and removes it while its pod keeps running', async () => {
    const dropins = path.join(env.dir, 'runtimes.d');
    fs.mkdirSync(dropins, { recursive: true });
    fs.writeFileSync(
      path.join(dropins, 'extra.toml'),
      `runtime_type = "io.containerd.runc.v2"\n[options]\n  BinaryName = "runc"\n  Root = "${env.dir}/extra"\n`,
    );
    await eventually(handlerNames, (names) => names.includes('extra'), 'the drop-in handler');
    const { pod_sandbox_id: id } = await env.client.runtime.RunPodSandbox({
      config: podConfig('o-extra'),
      runtime_handler: 'extra',
    });
    expect((await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: id })).status!.state).toBe('SANDBOX_READY');

    fs.rmSync(path.join(dropins, 'extra.toml'));
    await eventually(handlerNames, (names) => !names.includes('extra'), 'the handler to go away');
    const { status } = await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: id });
    expect(status).toMatchObject({ state: 'SANDBOX_READY', runtime_handler: 'extra' });
    await expect(
      env.client.runtime.RunPodSandbox({ config: podConfig('o-extra2'), runtime_handler: 'extra' }),
    ).rejects.toMatchObject({ code: 3 });
    await env.client.runtime.StopPodSandbox({ pod_sandbox_id: id });
    await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: id });
    const { stdout } = await execa('runc', ['--root', `${env.dir}/extra/k8s.io`, 'list', '-q']);
    expect(stdout.trim()).toBe('');
  });

  it('reloads on SIGHUP and through `crid config reload`, and keeps the old config when the new one is broken', async () => {
    const original = fs.readFileSync(env.configFile, 'utf8');
    const withHandler = (name: string) =>
      `${original}\n[${CRI}.containerd.runtimes.${name}]\n  runtime_type = "io.containerd.runc.v2"\n`;

    fs.writeFileSync(env.configFile, withHandler('hup'));
    env.crid.child.kill('SIGHUP');
    await eventually(handlerNames, (names) => names.includes('hup'), 'the SIGHUP reload');

    fs.writeFileSync(env.configFile, withHandler('viacli'));
    const ok = await execa(CRID, ['config', 'reload', '--config', env.configFile], { reject: false });
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toMatch(/viacli/);
    expect(ok.stdout).toMatch(/hup/);
    expect(await handlerNames()).toContain('viacli');

    fs.writeFileSync(env.configFile, `${original}\n[${CRI}.containerd.runtimes.bad]\n  runtime_type = 42\n`);
    const bad = await execa(CRID, ['config', 'reload', '--config', env.configFile], { reject: false });
    expect(bad.exitCode).not.toBe(0);
    expect(`${bad.stdout}${bad.stderr}`).toMatch(new RegExp(`${env.configFile.replace(/[.]/g, '\\.')}:\\d+:\\d+`));
    expect(await handlerNames()).toContain('viacli');
    const { pod_sandbox_id: id } = await env.client.runtime.RunPodSandbox({
      config: podConfig('o-after-bad'),
      runtime_handler: 'viacli',
    });
    await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: id });

    fs.writeFileSync(env.configFile, original);
    await execa(CRID, ['config', 'reload', '--config', env.configFile]);
    const scrape = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(scrape).toMatch(/crid_config_reloads_total\{result="failure"\} [1-9]/);
  });

  it('exports metrics per handler and RunPodSandbox phase', async () => {
    for (const handler of ['runc', 'crun']) {
      const { pod_sandbox_id: id } = await env.client.runtime.RunPodSandbox({
        config: podConfig(`o-m-${handler}`),
        runtime_handler: handler,
      });
      await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: id });
    }
    const scrape = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    for (const handler of ['runc', 'crun']) {
      for (const phase of ['image_ensure', 'network_setup', 'shim_start', 'task_create', 'task_start']) {
        expect(scrape).toMatch(
          new RegExp(`crid_sandbox_run_phase_duration_seconds_count\\{handler="${handler}",phase="${phase}"\\} [1-9]`),
        );
      }
      expect(scrape).toMatch(
        new RegExp(`crid_grpc_request_duration_seconds_count\\{method="RunPodSandbox",handler="${handler}"\\} [1-9]`),
      );
    }
    expect(scrape).toMatch(/crid_grpc_requests_total\{method="RunPodSandbox",code="OK"\} [1-9]/);
    expect(scrape).toMatch(/crid_handler_check_ok\{handler="broken"\} 0/);
    expect(scrape).toMatch(/crid_handler_check_ok\{handler="runc"\} 1/);
  });

  it('prints RuntimeClasses for the working handlers only', async () => {
    const { stdout, stderr } = await execa(CRID, ['runtimeclass', '--config', env.configFile]);
    const docs = parseAllDocuments(stdout)
      .map((d) => d.toJS())
      .filter(Boolean);
    const byHandler = new Map(docs.map((d: { handler: string }) => [d.handler, d]));
    for (const handler of ['runc', 'crun', 'runc-v1', 'kata']) {
      expect(byHandler.get(handler)).toMatchObject({
        apiVersion: 'node.k8s.io/v1',
        kind: 'RuntimeClass',
        metadata: { name: handler },
        handler,
        scheduling: { nodeSelector: { [`runtime-handler.crid.io/${handler}`]: 'true' } },
      });
    }
    expect(byHandler.has('broken')).toBe(false);
    expect(byHandler.has('Bad_Name')).toBe(false);
    expect(stderr).toContain('Bad_Name');
  });
});
