// A restarted crid recovers every object as far as it can and serves, whatever one object lost while
// it was down (a log directory, its record, its shim's record, its process): each is listed or
// cleaned up, and everything it holds can be stopped and removed, leaving nothing behind.
import { expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { instanceNetnsPrefix, listNetns } from '../../src/network/netns.ts';
import { processGone, withPodEnv, type PodEnv } from '../helpers/pod-env.ts';
import {
  containerConfig,
  logFile,
  runContainer,
  runPod,
  status,
  waitExited,
  waitForFile,
  type TestPod,
} from '../container/container-env.ts';

let env: PodEnv;

withPodEnv((started) => {
  env = started;
});

const TICKER = 'while true; do echo tick; sleep 0.2; done';

const sandboxRecord = (id: string) => path.join(env.dir, 'root/store/sandboxes', `${id}.json`);
const containerRecord = (id: string) => path.join(env.dir, 'root/store/containers', `${id}.json`);
const bundle = (id: string) => path.join(env.dir, 'state/tasks/k8s.io', id);

async function podInfo(id: string): Promise<{ pid: number; shimPid: number }> {
  return JSON.parse((await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: id, verbose: true })).info.info);
}

async function containerInfo(id: string): Promise<{ pid: number; shimPid: number }> {
  return JSON.parse((await status(env, id, true)).info.info);
}

/** Nothing of this test's crid is left on the host: no netns, mounts, bundles, or processes. */
async function expectNothingLeft(pids: number[]): Promise<void> {
  for (const pid of pids) expect(await processGone(pid), `process ${pid} is still there`).toBe(true);
  expect(await listNetns(instanceNetnsPrefix(path.join(env.dir, 'state')))).toEqual([]);
  expect(fs.readdirSync(path.join(env.dir, 'state/tasks/k8s.io'))).toEqual([]);
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4]);
  expect(mounts.filter((m) => m?.startsWith(env.dir))).toEqual([]);
}

async function removePods(pods: TestPod[]): Promise<void> {
  for (const pod of pods) {
    await env.client.runtime.StopPodSandbox({ pod_sandbox_id: pod.id });
    await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
  }
  expect((await env.client.runtime.ListPodSandbox({})).items).toEqual([]);
  expect((await env.client.runtime.ListContainers({})).containers).toEqual([]);
}

it("starts when a running container's log directory is gone, re-creates it, and can stop and remove the container", async () => {
  const pod = await runPod(env, 'logdir', 'runc');
  const id = await runContainer(env, pod, containerConfig(env, 'ticker', TICKER));
  await waitForFile(logFile(pod, 'ticker'), (text) => text.includes('tick'));
  const pids = [(await podInfo(pod.id)).shimPid, (await containerInfo(id)).pid];

  await env.crid.stop('SIGKILL');
  fs.rmSync(pod.logDir, { recursive: true, force: true });
  await env.restart();

  const { containers } = await env.client.runtime.ListContainers({});
  expect(containers.map((c: { id: string; state: string }) => [c.id, c.state])).toEqual([[id, 'CONTAINER_RUNNING']]);
  // the output goes on where kubelet expects it
  await waitForFile(logFile(pod, 'ticker'), (text) => text.includes('tick'));
  await env.client.runtime.StopContainer({ container_id: id, timeout: 0 });
  await env.client.runtime.RemoveContainer({ container_id: id });
  await removePods([pod]);
  await expectNothingLeft(pids);
});

it('recovers every other object when records are garbage or a shim record is gone, and removes what is left', async () => {
  const healthy = await runPod(env, 'healthy', 'runc');
  const healthyContainer = await runContainer(env, healthy, containerConfig(env, 'c', TICKER));
  const garbage = await runPod(env, 'garbage', 'runc');
  const lostShim = await runPod(env, 'lost-shim', 'runc');
  const poisoned = await runPod(env, 'poisoned', 'runc-v1');
  const poisonedContainer = await runContainer(env, poisoned, containerConfig(env, 'c', TICKER));
  const pids: number[] = [];
  for (const pod of [healthy, garbage, lostShim, poisoned]) pids.push((await podInfo(pod.id)).pid);
  for (const c of [healthyContainer, poisonedContainer]) pids.push((await containerInfo(c)).pid);

  await env.crid.stop('SIGKILL');
  fs.writeFileSync(sandboxRecord(garbage.id), '\u0000{"id": garbage');
  fs.rmSync(path.join(bundle(lostShim.id), 'crid-shim.json'));
  // a record an older crid stored from a request it did not check (issue: stop_signal = 99)
  const record = JSON.parse(fs.readFileSync(containerRecord(poisonedContainer), 'utf8'));
  fs.writeFileSync(containerRecord(poisonedContainer), JSON.stringify({ ...record, stopSignal: 99 }));
  fs.writeFileSync(path.join(env.dir, 'root/store/containers', 'null.json'), 'null');
  const stub = path.join(env.dir, 'root/store/containers', `${'e'.repeat(64)}.json`);
  fs.writeFileSync(stub, JSON.stringify({ id: 'e'.repeat(64), state: 'CONTAINER_RUNNING' }));
  await env.restart();

  expect(env.crid.stderr()).toContain(sandboxRecord(garbage.id));
  expect(env.crid.stderr()).toContain(stub);
  const pods = (await env.client.runtime.ListPodSandbox({})).items as Array<{ id: string; state: string }>;
  expect(pods.map((p) => p.id).sort()).toEqual([healthy.id, lostShim.id, poisoned.id].sort());
  expect((await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: healthy.id })).status!.state).toBe(
    'SANDBOX_READY',
  );
  expect((await status(env, healthyContainer)).status!.state).toBe('CONTAINER_RUNNING');
  await waitForFile(logFile(healthy, 'c'), (text) => text.split('\n').length > 3);

  expect((await status(env, poisonedContainer)).status!.stop_signal).toBe('RUNTIME_DEFAULT');
  await removePods([healthy, lostShim, poisoned]);
  // the unreadable pod's task and netns had no record: recovery removed them as orphans
  await expectNothingLeft(pids);
});

it('learns from the shims what happened while it was down, for runc, crun and the v1 shim, and stops and removes every pod', async () => {
  const pods: TestPod[] = [];
  const pids: number[] = [];
  const killed: string[] = [];
  const running: string[] = [];
  for (const handler of ['runc', 'crun', 'runc-v1']) {
    const pod = await runPod(env, `down-${handler}`, handler);
    pods.push(pod);
    running.push(await runContainer(env, pod, containerConfig(env, 'keeps', TICKER)));
    killed.push(await runContainer(env, pod, containerConfig(env, 'dies', 'sleep 1000')));
    pids.push((await podInfo(pod.id)).shimPid, (await podInfo(pod.id)).pid);
    for (const c of [running.at(-1)!, killed.at(-1)!])
      pids.push((await containerInfo(c)).shimPid, (await containerInfo(c)).pid);
  }

  await env.crid.stop('SIGKILL');
  for (const id of killed) process.kill(recordedPid(id), 'SIGKILL');
  await env.restart();

  for (const id of killed) expect((await waitExited(env, id)).exit_code).toBe(137);
  for (const id of running) expect((await status(env, id)).status!.state).toBe('CONTAINER_RUNNING');
  await removePods(pods);
  await expectNothingLeft(pids);
});

/** The pid a container had before crid was killed (read from its record: crid is down). */
function recordedPid(id: string): number {
  return JSON.parse(fs.readFileSync(containerRecord(id), 'utf8')).pid;
}
