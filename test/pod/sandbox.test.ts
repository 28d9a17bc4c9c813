// Pod sandboxes end to end through crid's gRPC socket: every handler, networking, sizing
// annotations, failure injection, concurrency.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { startPodEnv, podConfig, childrenOf, processGone, type PodEnv } from '../helpers/pod-env.ts';
import { instanceNetnsPrefix, listNetns } from '../../src/network/netns.ts';

const CRI = 'plugins."io.containerd.grpc.v1.cri"';

async function leftovers(env: PodEnv) {
  const state = path.join(env.dir, 'state');
  const mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  return {
    netns: await listNetns(instanceNetnsPrefix(state)),
    mounts: mountinfo.split('\n').filter((l) => l.includes(env.dir)).length,
    bundles: fs.existsSync(path.join(state, 'tasks/k8s.io')) ? fs.readdirSync(path.join(state, 'tasks/k8s.io')) : [],
    records: fs.existsSync(path.join(env.dir, 'root/store/sandboxes'))
      ? fs.readdirSync(path.join(env.dir, 'root/store/sandboxes'))
      : [],
    ips: fs
      .readdirSync(env.cni.ipamDir, { recursive: true })
      .filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(path.basename(String(f)))),
    shims: childrenOf(1).filter((p) => p.args.includes(env.dir)).length,
  };
}

async function runPod(env: PodEnv, name: string, extra: Record<string, unknown> = {}, handler = '') {
  const { pod_sandbox_id: id } = await env.client.runtime.RunPodSandbox({
    config: podConfig(name, extra),
    runtime_handler: handler,
  });
  const { status, info } = await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: id, verbose: true });
  return { id, status, info: JSON.parse(info.info) };
}

async function removePod(env: PodEnv, id: string) {
  await env.client.runtime.StopPodSandbox({ pod_sandbox_id: id });
  await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: id });
}

describe('pod sandboxes', () => {
  let env: PodEnv;
  let badNetConfDir = '';

  beforeAll(async () => {
    env = await startPodEnv({
      extraRuntimes: async (cni) => {
        await cni.addFakePlugin(
          'crid-test-fail',
          '#!/bin/sh\necho \'{"cniVersion":"1.0.0","code":7,"msg":"injected failure"}\'\nexit 1\n',
        );
        badNetConfDir = await cni.confDirWith('crid-test-fail');
        return `[${CRI}.containerd.runtimes.badnet]
  runtime_type = "io.containerd.runc.v2"
  cni_conf_dir = "${badNetConfDir}"
`;
      },
    });
  }, 180_000);

  afterAll(async () => {
    await env?.dispose();
  }, 120_000);

  it('runs a pod on the default handler, reachable from the host at its IP', async () => {
    const { id, status, info } = await runPod(env, 'p-default');
    expect(status!.state).toBe('SANDBOX_READY');
    expect(status!.runtime_handler).toBe(''); // as asked; the resolved default is in the verbose info
    expect(info.runtimeHandler).toBe('runc');
    expect(status!.network!.ip.startsWith(env.cni.subnetPrefix)).toBe(true);
    expect(fs.readFileSync(`/proc/${info.pid}/cmdline`, 'utf8')).toContain('/pause');

    const listener = spawn('nsenter', [`--net=${info.netnsPath}`, '/bin/busybox', 'nc', '-l', '-p', '7777'], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    listener.stdin.end('pong\n');
    let reply = '';
    for (let attempt = 0; attempt < 50 && reply === ''; attempt++) {
      reply = await new Promise<string>((resolve) => {
        const sock = net.connect(7777, status!.network!.ip);
        let data = '';
        sock.on('data', (d) => (data += d));
        sock.on('close', () => resolve(data));
        sock.on('error', () => setTimeout(() => resolve(''), 100));
      });
    }
    listener.kill();
    expect(reply).toBe('pong\n');

    await env.client.runtime.StopPodSandbox({ pod_sandbox_id: id });
    expect((await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: id })).status!.state).toBe('SANDBOX_NOTREADY');
    expect(await processGone(info.pid)).toBe(true);
    expect(fs.existsSync(info.netnsPath)).toBe(false);
    await env.client.runtime.StopPodSandbox({ pod_sandbox_id: id });
    await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: id });
    await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: id });
    await expect(env.client.runtime.PodSandboxStatus({ pod_sandbox_id: id })).rejects.toMatchObject({ code: 5 });
  });

  it.each([
    ['runc', 'runc'],
    ['crun', 'crun'],
    ['runc-v1', 'runc-v1'],
  ])('runs the pause process of handler %s under its OCI runtime root', async (handler, rootName) => {
    const { id, status, info } = await runPod(env, `p-${handler}`, {}, handler);
    expect(status!.state).toBe('SANDBOX_READY');
    expect(status!.runtime_handler).toBe(handler);
    const binary = handler === 'crun' ? 'crun' : 'runc';
    const { stdout } = await execa(binary, [
      '--root',
      path.join(env.dir, rootName, 'k8s.io'),
      'list',
      '--format',
      'json',
    ]);
    const listed = JSON.parse(stdout || '[]') as Array<{ id: string; pid: number; status: string }>;
    expect(listed.find((c) => c.id === id)).toMatchObject({ pid: info.pid, status: 'running' });
    await removePod(env, id);
    expect(await processGone(info.pid)).toBe(true);
  });

  it('runs a pod through the fake kata shim v2', async () => {
    const { id, status, info } = await runPod(env, 'p-kata', {}, 'kata');
    expect(status!.state).toBe('SANDBOX_READY');
    expect(status!.runtime_handler).toBe('kata');
    expect(fs.readFileSync(`/proc/${info.shimPid}/cmdline`, 'utf8')).toContain('fake-shim.ts');
    await removePod(env, id);
    expect(await processGone(info.shimPid)).toBe(true);
  });

  it('gives a hostNetwork pod no network namespace of its own', async () => {
    const { id, status, info } = await runPod(env, 'p-host', {
      hostname: '',
      linux: { security_context: { namespace_options: { network: 'NODE' } } },
    });
    expect(info.netnsPath).toBe('');
    expect(status!.network!.ip).toBe('');
    expect(fs.readlinkSync(`/proc/${info.pid}/ns/net`)).toBe(fs.readlinkSync('/proc/self/ns/net'));
    await removePod(env, id);
  });

  it('writes VM sizing annotations from resources plus overhead into the bundle config.json', async () => {
    const { id, info } = await runPod(env, 'p-sized', {
      linux: {
        resources: {
          cpu_period: '100000',
          cpu_quota: '50000',
          cpu_shares: '512',
          memory_limit_in_bytes: String(256 * 1024 * 1024),
        },
        overhead: {
          cpu_period: '100000',
          cpu_quota: '10000',
          cpu_shares: '102',
          memory_limit_in_bytes: String(64 * 1024 * 1024),
        },
      },
    });
    const spec = JSON.parse(fs.readFileSync(path.join(info.bundle, 'config.json'), 'utf8'));
    expect(spec.annotations).toMatchObject({
      'io.kubernetes.cri.sandbox-cpu-period': '100000',
      'io.kubernetes.cri.sandbox-cpu-quota': '60000',
      'io.kubernetes.cri.sandbox-cpu-shares': '614',
      'io.kubernetes.cri.sandbox-memory': String(320 * 1024 * 1024),
      'io.kubernetes.cri.container-type': 'sandbox',
      'io.kubernetes.cri.sandbox-id': id,
      'io.kubernetes.cri.runtime-handler': 'runc',
    });
    expect(JSON.parse(spec.annotations['io.kubernetes.cri-o.PodLinuxOverhead'])).toMatchObject({
      cpu_quota: 10000,
      memory_limit_in_bytes: 64 * 1024 * 1024,
    });
    await removePod(env, id);
  });

  it('records the resources of an in-place pod resize', async () => {
    const { id } = await runPod(env, 'p-resize', { linux: { resources: { cpu_shares: '256' } } });
    await env.client.runtime.UpdatePodSandboxResources({
      pod_sandbox_id: id,
      resources: { cpu_shares: '1024', memory_limit_in_bytes: '134217728' },
    });
    const { info } = await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: id, verbose: true });
    expect(JSON.parse(info.info).config.linux.resources).toMatchObject({
      cpu_shares: '1024',
      memory_limit_in_bytes: '134217728',
    });
    await expect(
      env.client.runtime.UpdatePodSandboxResources({ pod_sandbox_id: 'nosuchpod', resources: {} }),
    ).rejects.toMatchObject({ code: 5 });
    await removePod(env, id);
  });

  it('passes only allow-listed pod annotations to the handler', async () => {
    const { id, info } = await runPod(
      env,
      'p-annot',
      { annotations: { 'io.katacontainers.config.x': 'y', 'other/key': 'z' } },
      'kata',
    );
    const spec = JSON.parse(fs.readFileSync(path.join(info.bundle, 'config.json'), 'utf8'));
    expect(spec.annotations['io.katacontainers.config.x']).toBe('y');
    expect(spec.annotations['other/key']).toBeUndefined();
    await removePod(env, id);
  });

  it('leaves nothing behind when the shim fails to start', async () => {
    const before = await leftovers(env);
    await expect(
      env.client.runtime.RunPodSandbox({
        config: podConfig('p-garbage', { annotations: { 'fake-shim/mode': 'garbage' } }),
        runtime_handler: 'kata',
      }),
    ).rejects.toMatchObject({ details: expect.stringContaining('shim') });
    expect(await leftovers(env)).toEqual(before);
    const { items } = await env.client.runtime.ListPodSandbox({});
    expect(items.filter((p) => p.metadata!.name === 'p-garbage')).toEqual([]);
  });

  it('leaves nothing behind when a CNI plugin fails', async () => {
    const before = await leftovers(env);
    await expect(
      env.client.runtime.RunPodSandbox({ config: podConfig('p-badnet'), runtime_handler: 'badnet' }),
    ).rejects.toMatchObject({ details: expect.stringContaining('injected failure') });
    expect(await leftovers(env)).toEqual(before);
    // the name is free again: the same pod on a working handler starts
    const { id } = await runPod(env, 'p-badnet');
    await removePod(env, id);
  });

  it('lets exactly one of two concurrent identical RunPodSandbox calls succeed', async () => {
    const config = podConfig('p-twice');
    const results = await Promise.allSettled([
      env.client.runtime.RunPodSandbox({ config }),
      env.client.runtime.RunPodSandbox({ config }),
    ]);
    const ok = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ pod_sandbox_id: string }>[];
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(ok).toHaveLength(1);
    expect(failed[0]!.reason).toMatchObject({ code: 6 });
    await removePod(env, ok[0]!.value.pod_sandbox_id);
  });

  it('filters ListPodSandbox by state and labels', async () => {
    const a = await runPod(env, 'p-list-a', { labels: { app: 'a' } });
    const b = await runPod(env, 'p-list-b', { labels: { app: 'b' } });
    await env.client.runtime.StopPodSandbox({ pod_sandbox_id: b.id });
    const byLabel = await env.client.runtime.ListPodSandbox({ filter: { label_selector: { app: 'a' } } });
    expect(byLabel.items.map((p) => p.id)).toEqual([a.id]);
    const ready = await env.client.runtime.ListPodSandbox({ filter: { state: { state: 'SANDBOX_READY' } } });
    expect(ready.items.map((p) => p.id)).toContain(a.id);
    expect(ready.items.map((p) => p.id)).not.toContain(b.id);
    const byPrefix = await env.client.runtime.ListPodSandbox({ filter: { id: b.id.slice(0, 12) } });
    expect(byPrefix.items.map((p) => p.id)).toEqual([b.id]);
    await removePod(env, a.id);
    await removePod(env, b.id);
  });

  it('answers the streaming list calls with what the List calls answer', async () => {
    const a = await runPod(env, 'p-stream-a', { labels: { app: 'stream' } });
    const b = await runPod(env, 'p-stream-b', { labels: { app: 'stream' } });
    const collect = (rpc: string, field: string, request: object, service: 'runtime' | 'image' = 'runtime') =>
      new Promise<Array<{ id: string }>>((resolve, reject) => {
        const items: Array<{ id: string }> = [];
        const call = env.client.stream(rpc, request, service);
        call.on('data', (message: Record<string, Array<{ id: string }>>) => items.push(...message[field]!));
        call.on('end', () => resolve(items));
        call.on('error', reject);
      });
    const filter = { filter: { label_selector: { app: 'stream' } } };
    const streamed = await collect('StreamPodSandboxes', 'pod_sandboxes', filter);
    const listed = (await env.client.runtime.ListPodSandbox(filter)).items;
    expect(streamed.map((p) => p.id).sort()).toEqual([a.id, b.id].sort());
    expect(streamed).toEqual(listed);
    const images = await collect('StreamImages', 'images', {}, 'image');
    expect(images.map((i) => i.id)).toEqual(
      (await env.client.image.ListImages({})).images.map((i: { id: string }) => i.id),
    );
    await removePod(env, a.id);
    await removePod(env, b.id);
  });

  it('gives the memory of removed pods back once removals pause', async () => {
    const ids: string[] = [];
    for (const name of ['p-mem-1', 'p-mem-2', 'p-mem-3']) {
      ids.push((await env.client.runtime.RunPodSandbox({ config: podConfig(name) })).pod_sandbox_id);
    }
    const logged = env.crid.stderr().length;
    for (const id of ids) await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: id });
    const released = async () =>
      env.crid
        .stderr()
        .slice(logged)
        .split('\n')
        .find((l) => l.includes('gave freed memory back'));
    await expect.poll(released, { timeout: 15_000, interval: 250 }).toBeDefined();
    const [before, after] = JSON.parse((await released())!).heapMiB as [number, number];
    expect(after).toBeLessThanOrEqual(before);
  });

  it('refuses an unknown handler with the configured ones listed, leaving nothing', async () => {
    await expect(
      env.client.runtime.RunPodSandbox({ config: podConfig('p-nope'), runtime_handler: 'nope' }),
    ).rejects.toMatchObject({
      code: 3,
      details: expect.stringMatching(/no runtime for "nope" is configured.*crun.*runc-v1/),
    });
  });

  it('rejects absent or empty metadata fields, naming them', async () => {
    const config = podConfig('p-bad');
    (config.metadata as { namespace: string }).namespace = '';
    await expect(env.client.runtime.RunPodSandbox({ config })).rejects.toMatchObject({
      code: 3,
      details: expect.stringContaining('metadata.namespace'),
    });
    await expect(env.client.runtime.RunPodSandbox({})).rejects.toMatchObject({
      code: 3,
      details: expect.stringContaining('config'),
    });
    await expect(env.client.runtime.PodSandboxStatus({ pod_sandbox_id: '' })).rejects.toMatchObject({ code: 3 });
    await expect(env.client.runtime.StopPodSandbox({ pod_sandbox_id: 'nosuchpod' })).rejects.toMatchObject({ code: 5 });
    await expect(env.client.runtime.RemovePodSandbox({ pod_sandbox_id: 'nosuchpod' })).resolves.toEqual({});
  });
});
