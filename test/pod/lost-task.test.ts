// Shims that lose track of a task: stopping and removing must still finish, promptly, with nothing of
// the task left (no process, no shim, no bundle, no runtime state). Two ways found by the chaos test:
// a shim started at the address of one that died while crid was down (it answers, but has no such
// task), and a shim that still counts its task as running after the OCI runtime lost its state (every
// kill is "not found", no exit ever comes).
import { expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { processGone, withPodEnv, type PodEnv } from '../helpers/pod-env.ts';
import { containerConfig, runContainer, runPod, status, type TestPod } from '../container/container-env.ts';

let env: PodEnv;

withPodEnv((started) => {
  env = started;
});

async function podInfo(id: string): Promise<{ pid: number; shimPid: number }> {
  return JSON.parse((await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: id, verbose: true })).info.info);
}

async function removePod(pod: TestPod): Promise<void> {
  await env.client.runtime.StopPodSandbox({ pod_sandbox_id: pod.id });
  await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
  expect((await env.client.runtime.ListPodSandbox({})).items.map((p: { id: string }) => p.id)).not.toContain(pod.id);
}

/** The socket is served (the dead shim's socket file stays, refusing connections, until then). */
function accepts(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.createConnection(socket);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

function bundlesLeft(): string[] {
  return fs.readdirSync(path.join(env.dir, 'state/tasks/k8s.io'));
}

it('removes a pod whose shim was replaced, while crid was down, by one that does not have the pod task', async () => {
  const pod = await runPod(env, 'replaced-shim', 'kata');
  const { pid, shimPid } = await podInfo(pod.id);
  const argv = fs.readFileSync(`/proc/${shimPid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  await env.crid.stop('SIGKILL');
  process.kill(shimPid, 'SIGKILL');
  expect(await processGone(shimPid)).toBe(true);
  // the same serving command at the same socket, as a StartContainer in that pod launches it once the
  // lost shim's socket is gone
  const socket = argv[argv.indexOf('-socket') + 1]!;
  fs.rmSync(socket, { force: true });
  const replacement = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: 'ignore' });
  replacement.unref();
  while (!(await accepts(socket))) await new Promise((r) => setTimeout(r, 50));
  await env.restart();

  await removePod(pod);
  expect(await processGone(replacement.pid!), `the replacement shim ${replacement.pid} is still there`).toBe(true);
  expect(await processGone(pid), `the pod's process ${pid}, which the lost shim ran, is still there`).toBe(true);
  expect(bundlesLeft()).toEqual([]);
});

for (const [handler, runtimeDir] of [
  ['runc', 'runc'],
  ['runc-v1', 'runc-v1'],
] as const) {
  it(`${handler}: removes a pod whose running container's OCI runtime state is gone, and kills the container's processes`, async () => {
    const pod = await runPod(env, `lost-state-${handler}`, handler);
    const app = await runContainer(env, pod, containerConfig(env, 'app', 'sleep 1000'));
    const { pid } = JSON.parse((await status(env, app, true)).info.info);
    const shimPid = (await podInfo(pod.id)).shimPid;
    const stateDir = path.join(env.dir, runtimeDir, 'k8s.io', app);
    const aside = `${stateDir}.aside`;
    fs.renameSync(stateDir, aside);
    try {
      await env.client.runtime.RemoveContainer({ container_id: app });
      await removePod(pod);
    } finally {
      fs.rmSync(aside, { recursive: true, force: true });
    }
    expect(await processGone(pid), `the container process ${pid} is still there`).toBe(true);
    expect(await processGone(shimPid), `the pod's shim ${shimPid} is still there`).toBe(true);
    expect(bundlesLeft()).toEqual([]);
    expect(fs.readdirSync(path.join(env.dir, runtimeDir, 'k8s.io'))).toEqual([]);
  });
}
