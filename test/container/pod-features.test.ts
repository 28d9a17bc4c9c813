// Containers working together in a pod (localhost, pod IP, hostPort), and the runtime features
// around them: log reopen, stats, resource updates, the events stream, bad requests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startPodEnv, type PodEnv } from '../helpers/pod-env.ts';
import { USAGE_INTERVAL_MS } from '../../src/stats/cri-stats.ts';
import type { ContainerEventResponse__Output as ContainerEventResponse } from '../../src/generated/runtime/v1/ContainerEventResponse.ts';
import {
  containerConfig,
  createContainer,
  logFile,
  logRecords,
  runContainer,
  runPod,
  status,
  waitExited,
  waitForFile,
  type TestPod,
} from './container-env.ts';

const HTTPD = 'mkdir -p /www && echo hello-from-pod > /www/index.html && exec httpd -f -p 80 -h /www';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Retries until the server in the container listens (it starts asynchronously). */
async function fetchUntilUp(url: string): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetch(url, { signal: AbortSignal.timeout(2000) });
    } catch (err) {
      if (attempt > 100) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('containers in a pod', () => {
  let env: PodEnv;
  let hostPort: number;
  let pod: TestPod;

  beforeAll(async () => {
    env = await startPodEnv();
    await env.client.image.PullImage({ image: { image: env.busyboxImage } });
    hostPort = await freePort();
    pod = await runPod(env, 'features', 'runc', {
      port_mappings: [{ protocol: 'TCP', container_port: 80, host_port: hostPort, host_ip: '' }],
      labels: { app: 'features' },
    });
  }, 180_000);

  afterAll(async () => {
    await env?.dispose();
  }, 120_000);

  it('lets two containers of the pod talk over localhost', async () => {
    await runContainer(env, pod, containerConfig(env, 'server', 'while true; do echo pong | nc -l -p 8080; done'));
    const client = await runContainer(env, pod, containerConfig(env, 'client', 'while true; do sleep 1; done'));
    let reply = '';
    for (let attempt = 0; attempt < 50 && !reply.includes('pong'); attempt++) {
      const res = await env.client.runtime.ExecSync({
        container_id: client,
        cmd: ['/bin/sh', '-c', 'nc 127.0.0.1 8080 </dev/null'],
        timeout: 5,
      });
      reply = Buffer.from(res.stdout).toString();
      if (!reply.includes('pong')) await new Promise((r) => setTimeout(r, 100));
    }
    expect(reply).toBe('pong\n');
  });

  it('serves HTTP at the pod IP and on the hostPort at 127.0.0.1', async () => {
    await runContainer(env, pod, containerConfig(env, 'httpd', HTTPD));
    const ip = (await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: pod.id })).status!.network!.ip;
    const direct = await fetchUntilUp(`http://${ip}:80/`);
    expect(direct.status).toBe(200);
    expect(await direct.text()).toBe('hello-from-pod\n');
    const mapped = await fetchUntilUp(`http://127.0.0.1:${hostPort}/`);
    expect(mapped.status).toBe(200);
    expect(await mapped.text()).toBe('hello-from-pod\n');
  });

  it('keeps logging into a new file after ReopenContainerLog', async () => {
    const id = await runContainer(
      env,
      pod,
      containerConfig(env, 'rotate', 'i=0; while true; do echo "line $i"; i=$((i+1)); sleep 0.1; done'),
    );
    const file = logFile(pod, 'rotate');
    await waitForFile(file, (t) => t.includes('line 1\n'));
    fs.renameSync(file, `${file}.1`);
    await env.client.runtime.ReopenContainerLog({ container_id: id });
    const fresh = await waitForFile(file, (t) => logRecords(t).length >= 2);
    const rotated = logRecords(fs.readFileSync(`${file}.1`, 'utf8')).map((r) => Number(r[2].split(' ')[1]));
    const next = logRecords(fresh).map((r) => Number(r[2].split(' ')[1]));
    expect(rotated[0]).toBe(0);
    expect(next[0]).toBeGreaterThan(rotated.at(-1)!);
    await env.client.runtime.StopContainer({ container_id: id, timeout: 5 });
    await expect(env.client.runtime.ReopenContainerLog({ container_id: id })).rejects.toMatchObject({ code: 9 });
  });

  it('reports CPU and memory of a busy container and its pod, and applies new resources', async () => {
    const id = await runContainer(
      env,
      pod,
      containerConfig(env, 'busy', 'x=$(head -c 4000000 /dev/zero | tr "\\0" x); while true; do :; done'),
    );
    await new Promise((r) => setTimeout(r, 500));
    const first = (await env.client.runtime.ContainerStats({ container_id: id })).stats!;
    expect(BigInt(first.cpu!.usage_core_nano_seconds!.value)).toBeGreaterThan(0n);
    expect(BigInt(first.memory!.working_set_bytes!.value)).toBeGreaterThan(0n);
    expect(first.writable_layer!.fs_id!.mountpoint).toContain(env.dir);
    // Past the interval stats are sampled at (USAGE_INTERVAL_MS): a fresh sample, and a rate.
    await new Promise((r) => setTimeout(r, USAGE_INTERVAL_MS + 100));
    const second = (await env.client.runtime.ContainerStats({ container_id: id })).stats!;
    expect(BigInt(second.cpu!.usage_nano_cores!.value)).toBeGreaterThan(0n);
    const listed = (
      await env.client.runtime.ListContainerStats({ filter: { pod_sandbox_id: pod.id, label_selector: {} } })
    ).stats;
    expect(listed.map((s) => s.attributes!.id)).toContain(id);
    const podStats = (await env.client.runtime.PodSandboxStats({ pod_sandbox_id: pod.id })).stats!;
    expect(BigInt(podStats.linux!.cpu!.usage_core_nano_seconds!.value)).toBeGreaterThan(0n);
    expect(podStats.linux!.containers.map((s) => s.attributes!.id)).toContain(id);
    const pods = (await env.client.runtime.ListPodSandboxStats({ filter: { label_selector: { app: 'features' } } }))
      .stats;
    expect(pods.map((s) => s.attributes!.id)).toEqual([pod.id]);

    await env.client.runtime.UpdateContainerResources({
      container_id: id,
      linux: { memory_limit_in_bytes: String(96 * 1024 * 1024), cpu_shares: '512' },
    });
    const spec = JSON.parse((await status(env, id, true)).info.info).runtimeSpec;
    const limit = fs.readFileSync(
      path.join('/sys/fs/cgroup/memory', spec.linux.cgroupsPath, 'memory.limit_in_bytes'),
      'utf8',
    );
    expect(limit.trim()).toBe(String(96 * 1024 * 1024));
    await env.client.runtime.StopContainer({ container_id: id, timeout: 1 });
  });

  it('streams created, started, stopped and deleted events in order', async () => {
    const stream = env.client.stream('GetContainerEvents', {});
    const events: ContainerEventResponse[] = [];
    stream.on('data', (e: ContainerEventResponse) => events.push(e));
    stream.on('error', () => {});
    await new Promise((r) => setTimeout(r, 100));
    const id = await runContainer(env, pod, containerConfig(env, 'evented', 'sleep 0.2'));
    await waitExited(env, id);
    await env.client.runtime.RemoveContainer({ container_id: id });
    for (let i = 0; i < 50 && events.filter((e) => e.container_id === id).length < 4; i++)
      await new Promise((r) => setTimeout(r, 50));
    stream.cancel();
    expect(events.filter((e) => e.container_id === id).map((e) => e.container_event_type)).toEqual([
      'CONTAINER_CREATED_EVENT',
      'CONTAINER_STARTED_EVENT',
      'CONTAINER_STOPPED_EVENT',
      'CONTAINER_DELETED_EVENT',
    ]);
    expect(
      events.find((e) => e.container_event_type === 'CONTAINER_STOPPED_EVENT')!.containers_statuses[0]!.state,
    ).toBe('CONTAINER_EXITED');
  });

  it("streams a sandbox's created and started events from RunPodSandbox and exactly one stopped event", async () => {
    const stream = env.client.stream('GetContainerEvents', {});
    const events: ContainerEventResponse[] = [];
    stream.on('data', (e: ContainerEventResponse) => events.push(e));
    stream.on('error', () => {});
    await new Promise((r) => setTimeout(r, 100));
    const evented = await runPod(env, 'evented-pod', 'runc');
    const ofPod = () => events.filter((e) => e.container_id === evented.id);
    for (let i = 0; i < 50 && ofPod().length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(ofPod().map((e) => e.container_event_type)).toEqual(['CONTAINER_CREATED_EVENT', 'CONTAINER_STARTED_EVENT']);
    expect(ofPod()[1].pod_sandbox_status).toMatchObject({ id: evented.id, state: 'SANDBOX_READY' });
    // kubelet stops a pod more than once; the pause task exits once.
    await env.client.runtime.StopPodSandbox({ pod_sandbox_id: evented.id });
    await env.client.runtime.StopPodSandbox({ pod_sandbox_id: evented.id });
    await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: evented.id });
    const deleted = () => ofPod().some((e) => e.container_event_type === 'CONTAINER_DELETED_EVENT');
    for (let i = 0; i < 100 && !deleted(); i++) await new Promise((r) => setTimeout(r, 50));
    stream.cancel();
    expect(ofPod().map((e) => e.container_event_type)).toEqual([
      'CONTAINER_CREATED_EVENT',
      'CONTAINER_STARTED_EVENT',
      'CONTAINER_STOPPED_EVENT',
      'CONTAINER_DELETED_EVENT',
    ]);
  });

  it('lists containers by id prefix, state, pod and labels', async () => {
    const id = await runContainer(
      env,
      pod,
      containerConfig(env, 'listed', 'while true; do sleep 1; done', { labels: { tier: 'listed' } }),
    );
    const list = async (filter: object) =>
      (await env.client.runtime.ListContainers({ filter })).containers.map((c) => c.id);
    expect(await list({ id: id.slice(0, 10) })).toEqual([id]);
    expect(await list({ label_selector: { tier: 'listed' } })).toEqual([id]);
    expect(
      await list({ pod_sandbox_id: pod.id, state: { state: 'CONTAINER_RUNNING' }, label_selector: { tier: 'listed' } }),
    ).toEqual([id]);
    expect(await list({ state: { state: 'CONTAINER_EXITED' }, label_selector: { tier: 'listed' } })).toEqual([]);
    expect(await list({ pod_sandbox_id: 'f'.repeat(64) })).toEqual([]);
  });

  it('answers bad requests with the right codes and leaves nothing behind', async () => {
    const snapshotsBefore = fs.readdirSync(path.join(env.dir, 'root/snapshots/active')).length;
    const ioBefore = fs.readdirSync(path.join(env.dir, 'state/io')).length;
    const countBefore = (await env.client.runtime.ListContainers({})).containers.length;
    const create = (podId: string, config: Record<string, unknown>) =>
      env.client.runtime.CreateContainer({ pod_sandbox_id: podId, config, sandbox_config: pod.config });
    await expect(create('0'.repeat(64), containerConfig(env, 'bad', 'true'))).rejects.toMatchObject({ code: 5 });
    await expect(
      create(pod.id, containerConfig(env, 'bad', 'true', { image: { image: 'example.invalid/nothing:here' } })),
    ).rejects.toMatchObject({
      code: 5,
      details: expect.stringContaining('example.invalid/nothing:here'),
    });
    await expect(
      create(pod.id, containerConfig(env, 'bad', 'true', { log_path: '../../escape.log' })),
    ).rejects.toMatchObject({
      code: 3,
      details: expect.stringContaining('log_path'),
    });
    await expect(
      create(pod.id, { ...containerConfig(env, 'bad', 'true'), metadata: { name: '' } }),
    ).rejects.toMatchObject({
      code: 3,
      details: expect.stringContaining('metadata.name'),
    });
    await expect(
      create(pod.id, containerConfig(env, 'bad', 'true', { working_dir: 'relative' })),
    ).rejects.toMatchObject({ code: 3 });
    await expect(env.client.runtime.StartContainer({ container_id: 'f'.repeat(64) })).rejects.toMatchObject({
      code: 5,
    });
    await env.client.runtime.RemoveContainer({ container_id: 'f'.repeat(64) });
    expect((await env.client.runtime.ListContainers({})).containers.length).toBe(countBefore);
    expect(fs.readdirSync(path.join(env.dir, 'root/snapshots/active')).length).toBe(snapshotsBefore);
    expect(fs.readdirSync(path.join(env.dir, 'state/io')).length).toBe(ioBefore);
    // The failed attempts released the name.
    const ok = await createContainer(env, pod, containerConfig(env, 'bad', 'true'));
    await env.client.runtime.RemoveContainer({ container_id: ok });
    await expect(env.client.runtime.ContainerStatus({ container_id: ok })).rejects.toMatchObject({ code: 5 });
  });

  it('keeps a container across a crid restart: status, exec, logs and stop still work', async () => {
    const id = await runContainer(
      env,
      pod,
      containerConfig(
        env,
        'survivor',
        'trap "exit 5" TERM; i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.1; done',
      ),
    );
    await waitForFile(logFile(pod, 'survivor'), (t) => t.includes('tick 1\n'));
    await env.restart();
    expect((await status(env, id)).status!.state).toBe('CONTAINER_RUNNING');
    const res = await env.client.runtime.ExecSync({
      container_id: id,
      cmd: ['/bin/sh', '-c', 'echo still here'],
      timeout: 10,
    });
    expect(Buffer.from(res.stdout).toString()).toBe('still here\n');
    const linesBefore = logRecords(fs.readFileSync(logFile(pod, 'survivor'), 'utf8')).length;
    await waitForFile(logFile(pod, 'survivor'), (t) => logRecords(t).length > linesBefore + 2);
    await env.client.runtime.StopContainer({ container_id: id, timeout: 10 });
    const s = (await status(env, id)).status!;
    expect([s.state, s.exit_code, s.reason]).toEqual(['CONTAINER_EXITED', 5, 'Error']);
  }, 60_000);

  it('runs a container with stdin open and reports its resources', async () => {
    const id = await runContainer(
      env,
      pod,
      containerConfig(env, 'stdin', 'read line; echo "got $line"', {
        stdin: true,
        stdin_once: true,
        linux: { resources: { cpu_shares: '256' } },
      }),
    );
    const s = (await status(env, id)).status!;
    expect(s.state).toBe('CONTAINER_RUNNING');
    expect(s.resources!.linux!.cpu_shares).toBe('256');
    await env.client.runtime.StopContainer({ container_id: id, timeout: 10 });
    expect((await status(env, id)).status!.exit_code).toBe(143);
  });

  it('refuses containers in a stopped pod', async () => {
    const stopped = await runPod(env, 'stopped', 'runc');
    await env.client.runtime.StopPodSandbox({ pod_sandbox_id: stopped.id });
    await expect(createContainer(env, stopped, containerConfig(env, 'late', 'true'))).rejects.toMatchObject({
      code: 9,
    });
    await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: stopped.id });
  });
});
