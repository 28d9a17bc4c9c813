// A pod's containers join its runc v2 shim. The shim binary's `start` for a container only answers
// with the pod shim's address, so once a binary has done that, crid skips the process: a wrapper
// around containerd-shim-runc-v2 counts the starts it is asked for.
import { expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { processGone, withPodEnv, withToolsDir, type PodEnv } from '../helpers/pod-env.ts';
import { containerConfig, runContainer, runPod, status } from '../container/container-env.ts';

const CRI = 'plugins."io.containerd.grpc.v1.cri".containerd.runtimes';

let env: PodEnv;
const tools = withToolsDir('crid-counted-shim-');
const starts = () => path.join(tools(), 'starts');

/** containerd-shim-runc-v2 behind a wrapper that counts the starts it is asked for. */
function countedShim(): string {
  const shim = path.join(tools(), 'containerd-shim-counted-v2');
  fs.writeFileSync(
    shim,
    `#!/bin/sh
for a in "$@"; do [ "$a" = start ] && echo "$*" >> ${starts()}; done
exec /usr/bin/containerd-shim-runc-v2 "$@"
`,
    { mode: 0o755 },
  );
  return shim;
}

withPodEnv(
  (e) => {
    env = e;
  },
  {
    extraRuntimes: async () => `[${CRI}.counted]
  runtime_type = "io.containerd.runc.v2"
  runtime_path = "${countedShim()}"
`,
  },
);

const info = async (id: string) =>
  JSON.parse((await env.client.runtime.ContainerStatus({ container_id: id, verbose: true })).info.info);

it('starts the shim for the pod and its first container only; the others join it, across a crid restart', async () => {
  const pod = await runPod(env, 'shared-shim', 'counted');
  const ids: string[] = [];
  for (const name of ['a', 'b', 'c']) ids.push(await runContainer(env, pod, containerConfig(env, name, 'sleep 1000')));

  expect(fs.readFileSync(starts(), 'utf8').trim().split('\n')).toHaveLength(2);
  const { shimPid } = JSON.parse(
    (await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: pod.id, verbose: true })).info.info,
  );
  for (const id of ids) {
    expect((await status(env, id)).status!.state).toBe('CONTAINER_RUNNING');
    expect((await info(id)).shimPid).toBe(shimPid);
  }

  await env.restart('SIGKILL');
  // Only a shim crid started writes a log FIFO; the recovery makes none for the tasks that joined it.
  const hasShimLog = (id: string) => fs.existsSync(path.join(env.dir, 'state/tasks/k8s.io', id, 'log'));
  expect([pod.id, ...ids].map(hasShimLog)).toEqual([true, true, false, false]);
  const exec = await env.client.runtime.ExecSync({
    container_id: ids[2],
    cmd: ['/bin/sh', '-c', 'echo joined'],
    timeout: 10,
  });
  expect(exec.stdout.toString()).toBe('joined\n');
  await env.client.runtime.StopPodSandbox({ pod_sandbox_id: pod.id });
  await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
  expect(await processGone(shimPid), `the pod's shim ${shimPid} is still there`).toBe(true);
});
