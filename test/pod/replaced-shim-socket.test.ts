// A runc v2 shim started for a container joins its pod's shim only when it can connect to the pod's
// socket within 100 ms; under load it cannot, and it replaces the socket with its own and keeps
// running as a new shim. crid must create the container's task in that new shim (not through its
// connection to the pod's shim, which still serves the old socket) and stop it with the container.
import fs from 'node:fs';
import { expect, it } from 'vitest';
import { withPodEnv, processGone, type PodEnv } from '../helpers/pod-env.ts';
import { containerConfig, runContainer, runPod } from '../container/container-env.ts';
import { shimSocketPath } from '../chaos/leftovers.ts';

let env: PodEnv;

withPodEnv((started) => {
  env = started;
});

/** Live processes whose command line names the task `id` as a shim's -id. */
function shimsOf(id: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // it exited meanwhile
    }
    if (args[args.indexOf('-id') + 1] === id && args.includes(env.socket)) pids.push(Number(entry));
  }
  return pids;
}

for (const handler of ['runc', 'crun']) {
  it(`${handler}: a container whose shim start replaced the pod's shim socket runs in that shim, which goes with the pod`, async () => {
    const pod = await runPod(env, `replaced-socket-${handler}`, handler);
    const { info } = await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: pod.id, verbose: true });
    const { shimPid } = JSON.parse(info.info) as { shimPid: number };
    // What the shim's start does when it cannot reach the pod's shim in time: the socket goes.
    fs.rmSync(shimSocketPath(env.socket, pod.id));

    const container = await runContainer(env, pod, containerConfig(env, 'sleeper', 'exec sleep 1000'));
    const [containerShim] = shimsOf(container);
    expect(containerShim).toBeGreaterThan(0);
    const status = await env.client.runtime.ContainerStatus({ container_id: container, verbose: true });
    const { pid } = JSON.parse(status.info.info) as { pid: number };
    const parent = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    expect(parent).toBe(containerShim);

    await env.client.runtime.StopPodSandbox({ pod_sandbox_id: pod.id });
    await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
    expect(await processGone(shimPid)).toBe(true);
    expect(await processGone(containerShim!)).toBe(true);
    expect(shimsOf(container)).toEqual([]);
  }, 60_000);
}

it('after a crid restart, the pod shim whose socket another shim took is found by its task and stopped with the pod', async () => {
  const pod = await runPod(env, 'replaced-socket-restart', 'runc');
  const { info } = await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: pod.id, verbose: true });
  const { shimPid } = JSON.parse(info.info) as { shimPid: number };
  fs.rmSync(shimSocketPath(env.socket, pod.id));
  const container = await runContainer(env, pod, containerConfig(env, 'sleeper', 'exec sleep 1000'));
  const [containerShim] = shimsOf(container);
  expect(containerShim).toBeGreaterThan(0);

  await env.restart('SIGKILL');
  await env.client.runtime.StopPodSandbox({ pod_sandbox_id: pod.id });
  await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
  expect(await processGone(shimPid)).toBe(true);
  expect(await processGone(containerShim!)).toBe(true);
  expect([...shimsOf(pod.id), ...shimsOf(container)]).toEqual([]);
}, 60_000);
