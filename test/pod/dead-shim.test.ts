// A pod whose shim died (SIGKILLed, OOM-killed) is stopped and removed at once: crid does not answer
// UNAVAILABLE because the dead shim's connection was still being cleaned up.
import { expect, it } from 'vitest';
import { listNetns } from '../../src/network/netns.ts';
import { withPodEnv, processGone, type PodEnv } from '../helpers/pod-env.ts';
import { containerConfig, runContainer, runPod } from '../container/container-env.ts';

let env: PodEnv;

withPodEnv((started) => {
  env = started;
});

for (const handler of ['runc', 'crun']) {
  it(`${handler}: stops and removes a pod with a running container right after its shim was killed`, async () => {
    const pod = await runPod(env, `dead-shim-${handler}`, handler);
    const container = await runContainer(env, pod, containerConfig(env, 'sleeper', 'exec sleep 1000'));
    const { info } = await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: pod.id, verbose: true });
    const { shimPid, pid, netnsPath } = JSON.parse(info.info) as { shimPid: number; pid: number; netnsPath: string };
    expect(netnsPath).toMatch(/^\/run\/netns\//);

    process.kill(shimPid, 'SIGKILL');
    expect(await processGone(shimPid)).toBe(true);
    await env.client.runtime.StopPodSandbox({ pod_sandbox_id: pod.id });
    await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });

    expect(await processGone(pid)).toBe(true);
    await expect(env.client.runtime.ContainerStatus({ container_id: container })).rejects.toMatchObject({ code: 5 });
    expect((await env.client.runtime.ListPodSandbox({})).items).toEqual([]);
    expect(await listNetns()).not.toContain(netnsPath);
  }, 60_000);
}
