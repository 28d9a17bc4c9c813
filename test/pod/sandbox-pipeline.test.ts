// RunPodSandbox as a pipeline: the pod's CNI ADD runs while its shim starts and, on a runc-kind
// handler, while its pause task is created; a VM shim's task is created only once the network is up
// (VM shims copy the netns' interfaces when the task is made). And the teardown: one CNI DEL per pod,
// however often kubelet stops it before removing it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { FAKE_KATA_SHIM, startPodEnv, podConfig, type PodEnv } from '../helpers/pod-env.ts';

const CRI = 'plugins."io.containerd.grpc.v1.cri"';
const PLUGIN = 'crid-test-shim-first';
const CALLS_PLUGIN = 'crid-test-cni-calls';

// A chained plugin that appends each CNI command it is run with to <plugin>.<pod id>.calls.
const callsPluginScript = `#!${process.execPath}
const fs = require('node:fs');
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
fs.appendFileSync(__filename + '.' + process.env.CNI_CONTAINERID + '.calls', process.env.CNI_COMMAND + '\\n');
if (process.env.CNI_COMMAND === 'ADD') process.stdout.write(JSON.stringify(input.prevResult));
`;

// A chained plugin that waits (up to 20 s) for a shim naming the pod to run, then (up to 3 s) for the
// pause task's rootfs to be mounted (a shim mounts it when it creates the task), records what it saw,
// and passes the bridge's result on. Before the pipeline it waited in vain for the shim and failed.
const pluginScript = `#!${process.execPath}
const fs = require('node:fs');
const path = require('node:path');
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
if (process.env.CNI_COMMAND !== 'ADD') process.exit(0);
const id = process.env.CNI_CONTAINERID;
const shimRuns = () => fs.readdirSync('/proc').some((pid) => {
  try {
    const args = fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8');
    return (args.includes('containerd-shim') || args.includes('fake-shim')) && args.includes(id);
  } catch { return false; }
});
const deadline = Date.now() + 20000;
while (!shimRuns() && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
const seen = shimRuns();
const taskMade = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').includes('/' + id + '/rootfs ');
const taskDeadline = Date.now() + 3000;
while (!taskMade() && Date.now() < taskDeadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
fs.writeFileSync(__filename + '.' + id + '.json', JSON.stringify({ shimSeen: seen, taskCreated: taskMade() }));
if (!seen) {
  process.stdout.write(JSON.stringify({ cniVersion: '1.0.0', code: 11, msg: 'no shim ran while the network was set up' }));
  process.exit(1);
}
process.stdout.write(JSON.stringify(input.prevResult));
`;

describe('RunPodSandbox pipeline', () => {
  let env: PodEnv;

  beforeAll(async () => {
    env = await startPodEnv({
      extraRuntimes: async (cni) => {
        await cni.addFakePlugin(PLUGIN, pluginScript);
        const confDir = await cni.confDirWith(PLUGIN);
        await cni.addFakePlugin(CALLS_PLUGIN, callsPluginScript);
        const callsConfDir = await cni.confDirWith(CALLS_PLUGIN);
        const runcHandler = (name: string, cniConfDir: string) => `[${CRI}.containerd.runtimes.${name}]
  runtime_type = "io.containerd.runc.v2"
  cni_conf_dir = "${cniConfDir}"
  [${CRI}.containerd.runtimes.${name}.options]
    BinaryName = "runc"
    Root = "${path.join(cni.dir, 'runc')}"
`;
        return `${runcHandler('counted', callsConfDir)}${runcHandler('shimfirst', confDir)}[${CRI}.containerd.runtimes.vmfirst]
  runtime_type = "io.containerd.kata.v2"
  runtime_path = "${FAKE_KATA_SHIM}"
  cni_conf_dir = "${confDir}"
`;
      },
    });
  }, 180_000);

  afterAll(async () => {
    await env?.dispose();
  }, 120_000);

  for (const [handler, taskCreated] of [
    ['shimfirst', true],
    ['vmfirst', false],
  ] as const) {
    it(`${handler}: sets up the pod network while the shim starts; the task is made ${taskCreated ? 'meanwhile' : 'after it'}`, async () => {
      const { pod_sandbox_id: id } = await env.client.runtime.RunPodSandbox({
        config: podConfig(`p-pipeline-${handler}`),
        runtime_handler: handler,
      });
      const { status } = await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: id });
      expect(status!.state).toBe('SANDBOX_READY');
      expect(status!.network!.ip.startsWith(env.cni.subnetPrefix)).toBe(true);
      const seen = JSON.parse(fs.readFileSync(path.join(env.cni.binDir, `${PLUGIN}.${id}.json`), 'utf8'));
      expect(seen).toEqual({ shimSeen: true, taskCreated });
      await env.client.runtime.StopPodSandbox({ pod_sandbox_id: id });
      await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: id });
    }, 60_000);
  }

  it('runs CNI DEL once for a pod stopped twice and then removed', async () => {
    const { pod_sandbox_id: id } = await env.client.runtime.RunPodSandbox({
      config: podConfig('p-one-del'),
      runtime_handler: 'counted',
    });
    await env.client.runtime.StopPodSandbox({ pod_sandbox_id: id });
    await env.client.runtime.StopPodSandbox({ pod_sandbox_id: id });
    await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: id });
    const calls = fs.readFileSync(path.join(env.cni.binDir, `${CALLS_PLUGIN}.${id}.calls`), 'utf8');
    expect(calls.trim().split('\n')).toEqual(['ADD', 'DEL']);
  }, 60_000);
});
