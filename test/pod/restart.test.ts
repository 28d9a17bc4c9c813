// crid restarts (even SIGKILLed) without touching running pods: shims outlive it, and the restarted
// crid lists the same pods with the same IPs and can still stop and remove them.
import { afterAll, beforeAll, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { instanceNetnsPrefix, listNetns } from '../../src/network/netns.ts';
import { startPodEnv, podConfig, processGone, type PodEnv } from '../helpers/pod-env.ts';
import { startCrid, waitForSocket } from '../helpers/crid-process.ts';
import { criClient } from '../helpers/cri-client.ts';

let env: PodEnv;

beforeAll(async () => {
  env = await startPodEnv();
}, 180_000);

afterAll(async () => {
  await env?.dispose();
}, 120_000);

it('keeps 5 pods across a SIGKILL of crid and removes them cleanly afterwards', async () => {
  const handlers = ['runc', 'crun', 'runc-v1', 'kata', ''];
  const pods: Array<{ id: string; ip: string; pid: number; handler: string }> = [];
  for (const [i, handler] of handlers.entries()) {
    const { pod_sandbox_id: id } = await env.client.runtime.RunPodSandbox({
      config: podConfig(`r-${i}`),
      runtime_handler: handler,
    });
    const { status, info } = await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: id, verbose: true });
    pods.push({ id, ip: status!.network!.ip, pid: JSON.parse(info.info).pid, handler });
  }

  await env.restart('SIGKILL');

  for (const pod of pods) {
    expect(fs.existsSync(`/proc/${pod.pid}`)).toBe(true);
    const { status } = await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: pod.id });
    expect(status!.state).toBe('SANDBOX_READY');
    expect(status!.network!.ip).toBe(pod.ip);
  }
  const { items } = await env.client.runtime.ListPodSandbox({ filter: { state: { state: 'SANDBOX_READY' } } });
  expect(items.map((p: { id: string }) => p.id).sort()).toEqual(pods.map((p) => p.id).sort());

  for (const pod of pods) {
    await env.client.runtime.StopPodSandbox({ pod_sandbox_id: pod.id });
    await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
    expect(await processGone(pod.pid)).toBe(true);
  }
  expect(await listNetns(instanceNetnsPrefix(path.join(env.dir, 'state')))).toEqual([]);
  expect(fs.readdirSync(path.join(env.dir, 'state/tasks/k8s.io'))).toEqual([]);
  expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(env.dir);
});

it('marks a pod NOTREADY when its pause process dies, also while crid is down', async () => {
  const { pod_sandbox_id: live } = await env.client.runtime.RunPodSandbox({ config: podConfig('d-live') });
  const { pod_sandbox_id: down } = await env.client.runtime.RunPodSandbox({ config: podConfig('d-down') });
  const pidOf = async (id: string) =>
    JSON.parse((await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: id, verbose: true })).info.info)
      .pid as number;

  process.kill(await pidOf(live), 'SIGKILL');
  for (let i = 0; i < 100; i++) {
    if ((await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: live })).status!.state === 'SANDBOX_NOTREADY')
      break;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect((await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: live })).status!.state).toBe('SANDBOX_NOTREADY');

  const downPid = await pidOf(down);
  await env.crid.stop('SIGKILL');
  process.kill(downPid, 'SIGKILL');
  await env.restart();
  for (let i = 0; i < 100; i++) {
    if ((await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: down })).status!.state === 'SANDBOX_NOTREADY')
      break;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect((await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: down })).status!.state).toBe('SANDBOX_NOTREADY');
  for (const id of [live, down]) await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: id });
  expect(await listNetns(instanceNetnsPrefix(path.join(env.dir, 'state')))).toEqual([]);
});

it("leaves another crid's pods alone when it starts on the same host", async () => {
  const { pod_sandbox_id: id } = await env.client.runtime.RunPodSandbox({ config: podConfig('neighbour') });
  const { info } = await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: id, verbose: true });
  const { netnsPath, pid } = JSON.parse(info.info);
  const otherDir = path.join(env.dir, 'other');
  const otherConfig = path.join(env.dir, 'other.toml');
  fs.writeFileSync(
    otherConfig,
    fs
      .readFileSync(env.configFile, 'utf8')
      .replace(`root = "${env.dir}/root"`, `root = "${otherDir}/root"`)
      .replace(`state = "${env.dir}/state"`, `state = "${otherDir}/state"`),
  );
  const other = startCrid(otherConfig, path.join(otherDir, 'crid.sock'));
  try {
    await waitForSocket(other);
  } finally {
    await other.stop();
  }
  expect(fs.existsSync(netnsPath)).toBe(true);
  expect(fs.existsSync(`/proc/${pid}`)).toBe(true);
  expect((await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: id })).status!.state).toBe('SANDBOX_READY');
  await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: id });
});

it('undoes a RunPodSandbox that crid was killed in the middle of', async () => {
  const prefix = instanceNetnsPrefix(path.join(env.dir, 'state'));
  const ipFiles = () =>
    (fs.existsSync(env.cni.ipamDir) ? fs.readdirSync(env.cni.ipamDir, { recursive: true }) : []).filter((f) =>
      /^\d+\.\d+\.\d+\.\d+$/.test(path.basename(String(f))),
    );
  const ipsBefore = ipFiles();
  const config = podConfig('half-made', { annotations: { 'fake-shim/mode': 'hang' } });
  const pending = env.client.runtime.RunPodSandbox({ config, runtime_handler: 'kata' }).catch((err: unknown) => err);
  // The pod has its netns and IP and its shim's start hangs: now crid dies.
  for (let i = 0; i < 200 && ipFiles().length === ipsBefore.length; i++) await new Promise((r) => setTimeout(r, 50));
  expect(await listNetns(prefix)).toHaveLength(1);
  await new Promise((r) => setTimeout(r, 300));
  await env.crid.stop('SIGKILL');
  await pending;
  // what a CreateContainer killed halfway leaves: its FIFO directory, and a snapshot without its record
  const orphanIo = path.join(env.dir, 'state/io', 'f'.repeat(64));
  fs.mkdirSync(orphanIo, { recursive: true });
  const orphanSnapshot = path.join(env.dir, 'root/snapshots/active', 'e'.repeat(64));
  fs.mkdirSync(path.join(orphanSnapshot, 'upper'), { recursive: true });
  await env.restart();
  expect(fs.existsSync(orphanIo)).toBe(false);
  expect(fs.existsSync(orphanSnapshot)).toBe(false);

  expect(await listNetns(prefix)).toEqual([]);
  expect(ipFiles()).toEqual(ipsBefore);
  expect(fs.readdirSync(path.join(env.dir, 'root/store/sandboxes'))).toEqual([]);
  expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(env.dir);
  expect((await env.client.runtime.ListPodSandbox({})).items).toEqual([]);
  // the name is free again
  const { pod_sandbox_id: id } = await env.client.runtime.RunPodSandbox({ config: podConfig('half-made') });
  await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: id });
});

it('answers lists and statuses from its records while recovery still waits on a shim, other calls once it is done', async () => {
  const { pod_sandbox_id: id } = await env.client.runtime.RunPodSandbox({ config: podConfig('held') });
  const { info } = await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: id, verbose: true });
  const { shimPid } = JSON.parse(info.info);
  env.client.close();
  await env.crid.stop();
  // A stopped shim does not answer: recovery waits for it (for 5 s, then crid gives it up as hung).
  process.kill(shimPid, 'SIGSTOP');
  try {
    env.crid = startCrid(env.configFile, env.socket);
    while (!fs.existsSync(env.socket)) await new Promise((r) => setTimeout(r, 20));
    env.client = criClient(env.socket);
    let listed: string[] | undefined;
    while (listed === undefined) {
      listed = await env.client.runtime.ListPodSandbox({}, 2000).then(
        ({ items }) => items.map((p: { id: string }) => p.id),
        () => undefined,
      );
    }

    expect(listed).toContain(id);
    expect((await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: id })).status!.state).toBe('SANDBOX_READY');
    await expect(env.client.runtime.RunPodSandbox({ config: podConfig('too-soon') })).rejects.toMatchObject({
      code: 14,
      details: expect.stringContaining('recovering'),
    });
  } finally {
    process.kill(shimPid, 'SIGCONT');
  }
  let status: unknown;
  while (status === undefined) status = await env.client.runtime.Status({}, 2000).catch(() => undefined);
  await env.client.runtime.StopPodSandbox({ pod_sandbox_id: id });
  await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: id });
  expect((await env.client.runtime.ListPodSandbox({})).items).toEqual([]);
}, 60_000);
