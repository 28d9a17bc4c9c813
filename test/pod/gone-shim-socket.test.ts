// crid launches the runc v2 shim itself and a container joins its pod's shim through crid's own
// connection: no second shim is started for it, so none can take the pod's socket (the shim's own
// `start` did, when it could not connect to the pod's socket within 100 ms under load). Even with the
// socket file gone the container runs in the pod's shim, and that shim goes with the pod, also after
// a crid restart that cannot reach it by its address.
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
  it(`${handler}: a container joins its pod's shim even when the pod's socket file is gone, and the shim goes with the pod`, async () => {
    const pod = await runPod(env, `gone-socket-${handler}`, handler);
    const { info } = await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: pod.id, verbose: true });
    const { shimPid } = JSON.parse(info.info) as { shimPid: number };
    fs.rmSync(shimSocketPath(env.socket, pod.id));

    const container = await runContainer(env, pod, containerConfig(env, 'sleeper', 'exec sleep 1000'));
    expect(shimsOf(container)).toEqual([]);
    const status = await env.client.runtime.ContainerStatus({ container_id: container, verbose: true });
    const { pid } = JSON.parse(status.info.info) as { pid: number };
    const parent = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    expect(parent).toBe(shimPid);

    await env.client.runtime.StopPodSandbox({ pod_sandbox_id: pod.id });
    await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
    expect(await processGone(shimPid)).toBe(true);
    expect(shimsOf(pod.id)).toEqual([]);
  }, 60_000);
}

it('after a crid restart, a pod shim whose socket file is gone is found by its task and stopped with the pod', async () => {
  const pod = await runPod(env, 'gone-socket-restart', 'runc');
  const { info } = await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: pod.id, verbose: true });
  const { shimPid } = JSON.parse(info.info) as { shimPid: number };
  const container = await runContainer(env, pod, containerConfig(env, 'sleeper', 'exec sleep 1000'));
  fs.rmSync(shimSocketPath(env.socket, pod.id));

  await env.restart('SIGKILL');
  await env.client.runtime.StopPodSandbox({ pod_sandbox_id: pod.id });
  await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
  expect(await processGone(shimPid)).toBe(true);
  expect([...shimsOf(pod.id), ...shimsOf(container)]).toEqual([]);
}, 60_000);
