// crid does what the runc v2 shim's `start` does (src/runtime/shim-v2.ts): the shim serves on the
// socket its `start` would have made, names it in the bundle, runs in a session of its own one OOM
// point above crid, serves every task of its pod, and removes its socket when the pod goes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { withPodEnv, processGone, type PodEnv } from '../helpers/pod-env.ts';
import { containerConfig, runContainer, runPod } from '../container/container-env.ts';
import { shimSocketPath } from '../chaos/leftovers.ts';

let env: PodEnv;
const CRI = 'plugins."io.containerd.grpc.v1.cri".containerd.runtimes';
const tools = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-shim-launch-'));
/** A runc v2 shim that writes down its arguments and exits before it serves. */
const dyingShim = path.join(tools, 'containerd-shim-runc-v2');
fs.writeFileSync(dyingShim, `#!/bin/sh\necho "$@" > ${tools}/args\nexit 3\n`, { mode: 0o755 });

withPodEnv(
  (started) => {
    env = started;
  },
  {
    extraRuntimes: async () => `[${CRI}.dying]
  runtime_type = "io.containerd.runc.v2"
  runtime_path = "${dyingShim}"
`,
  },
);

afterAll(() => fs.rmSync(tools, { recursive: true, force: true }));

/** Fields of /proc/<pid>/stat after the command name: state, ppid, pgrp, session, … */
function stat(pid: number): string[] {
  return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
}

async function podShim(podId: string): Promise<{ shimPid: number; bundle: string }> {
  const { info } = await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: podId, verbose: true });
  return JSON.parse(info.info) as { shimPid: number; bundle: string };
}

for (const handler of ['runc', 'crun']) {
  it(`${handler}: the pod's shim serves its pod's tasks on the socket its start would make, and removes it with the pod`, async () => {
    const pod = await runPod(env, `launch-${handler}`, handler);
    const { shimPid, bundle } = await podShim(pod.id);
    const socket = shimSocketPath(env.socket, pod.id);
    expect(fs.statSync(socket).isSocket()).toBe(true);
    expect(fs.statSync(socket).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(bundle, 'address'), 'utf8')).toBe(`unix://${socket}`);
    const [, ppid, pgrp, session] = stat(shimPid);
    expect(Number(ppid)).toBe(env.crid.child.pid);
    expect([Number(pgrp), Number(session)]).toEqual([shimPid, shimPid]);
    const cridScore = Number(fs.readFileSync(`/proc/${env.crid.child.pid}/oom_score_adj`, 'utf8'));
    expect(Number(fs.readFileSync(`/proc/${shimPid}/oom_score_adj`, 'utf8'))).toBe(Math.min(cridScore + 1, 1000));

    const containers = [
      await runContainer(env, pod, containerConfig(env, 'one', 'exec sleep 1000')),
      await runContainer(env, pod, containerConfig(env, 'two', 'exec sleep 1000')),
    ];
    for (const id of containers) {
      const { info } = await env.client.runtime.ContainerStatus({ container_id: id, verbose: true });
      const { pid } = JSON.parse(info.info) as { pid: number };
      expect(Number(stat(pid)[1])).toBe(shimPid);
    }

    await env.client.runtime.StopPodSandbox({ pod_sandbox_id: pod.id });
    await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
    expect(await processGone(shimPid)).toBe(true);
    // crid, the shim's parent, reaps it: no zombie stays.
    await expect.poll(() => fs.existsSync(`/proc/${shimPid}`), { timeout: 5000 }).toBe(false);
    expect(fs.existsSync(socket)).toBe(false);
  }, 60_000);
}

it('a shim that exits before it serves fails the pod, which leaves no socket, bundle or record', async () => {
  await expect(runPod(env, 'dying-shim', 'dying')).rejects.toThrow();
  const args = fs.readFileSync(path.join(tools, 'args'), 'utf8').trim().split(' ');
  const id = args[args.indexOf('-id') + 1]!;
  expect(args.at(-1)).not.toBe('start');
  expect(fs.existsSync(shimSocketPath(env.socket, id))).toBe(false);
  expect(fs.existsSync(path.join(env.dir, 'state/tasks/k8s.io', id))).toBe(false);
  const { items } = await env.client.runtime.ListPodSandbox({});
  expect(items.map((p) => p.id)).not.toContain(id);
}, 60_000);
