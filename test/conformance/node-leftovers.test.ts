// The conformance run's leftover check sees what a pod leaves on the host (the pod, its shim, its
// mounts, its netns) and, once crid is gone, removes it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import path from 'node:path';
import { podConfig, processGone, startPodEnv, type PodEnv } from '../helpers/pod-env.ts';
import {
  instanceContainers,
  instanceMounts,
  instanceNetns,
  instanceProcesses,
  leftovers,
  removeInstanceLeftovers,
  settledLeftovers,
  type CridInstance,
} from './node-leftovers.ts';

let env: PodEnv;
let instance: CridInstance;

beforeAll(async () => {
  env = await startPodEnv();
  instance = {
    dir: env.dir,
    stateDir: path.join(env.dir, 'state'),
    runtimeRoots: [{ binary: 'runc', root: path.join(env.dir, 'runc/k8s.io') }],
  };
}, 180_000);

afterAll(async () => {
  await env?.dispose();
}, 120_000);

it('lists a running pod, its shim, mounts and netns, and nothing once the pod is removed', async () => {
  const { pod_sandbox_id: id } = await env.client.runtime.RunPodSandbox({ config: podConfig('leftover') });
  const found = await leftovers(env.client, instance, env.crid.child.pid!);
  expect(found).toContain(`pod ${id} (crid-test/leftover)`);
  expect(found).toContain(`container ${id} (runc --root ${env.dir}/runc/k8s.io)`);
  expect(found.some((item) => /^process \d+: \S*containerd-shim-runc-v2 /.test(item))).toBe(true);
  expect(found.some((item) => item.startsWith(`mount ${env.dir}/`))).toBe(true);
  expect(found.some((item) => item.startsWith('netns crid-'))).toBe(true);

  await env.client.runtime.StopPodSandbox({ pod_sandbox_id: id });
  await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: id });
  expect(await settledLeftovers(env.client, instance, env.crid.child.pid!)).toEqual([]);
});

it('removes the pause process, shim, mounts and netns of a pod whose crid was killed', async () => {
  const { pod_sandbox_id: id } = await env.client.runtime.RunPodSandbox({ config: podConfig('orphan') });
  const { info } = await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: id, verbose: true });
  const pausePid = JSON.parse(info.info).pid as number;
  await env.crid.stop('SIGKILL');
  expect(instanceProcesses(instance).length).toBeGreaterThan(0);
  expect(instanceNetns(instance)).toHaveLength(1);

  await removeInstanceLeftovers(instance);
  expect(await processGone(pausePid)).toBe(true);
  expect(await instanceContainers(instance)).toEqual([]);
  expect(instanceProcesses(instance)).toEqual([]);
  expect(instanceMounts(instance)).toEqual([]);
  expect(instanceNetns(instance)).toEqual([]);
  await env.restart();
});
