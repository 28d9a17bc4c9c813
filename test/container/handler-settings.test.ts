// Handler settings a RuntimeClass relies on, in real containers: a handler's base_runtime_spec.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPodEnv, type PodEnv } from '../helpers/pod-env.ts';
import { containerConfig, runContainer, runPod, type TestPod } from './container-env.ts';

const CRI = 'plugins."io.containerd.grpc.v1.cri"';

const BASE_SPEC = {
  ociVersion: '1.0.2',
  process: {
    env: ['FROM_BASE=base', 'OVERRIDDEN=base'],
    rlimits: [{ type: 'RLIMIT_NOFILE', hard: 777, soft: 555 }],
  },
  annotations: { 'example.com/from-base': 'yes' },
};

async function exec(env: PodEnv, id: string, script: string): Promise<string> {
  const res = await env.client.runtime.ExecSync({ container_id: id, cmd: ['/bin/sh', '-c', script], timeout: 10 });
  return Buffer.from(res.stdout).toString() + Buffer.from(res.stderr).toString();
}

describe('handler settings in real containers', () => {
  let env: PodEnv;
  let dir: string;
  let pod: TestPod;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-handler-settings-'));
    const baseSpec = path.join(dir, 'base-spec.json');
    fs.writeFileSync(baseSpec, JSON.stringify(BASE_SPEC));
    env = await startPodEnv({
      extraRuntimes: async () => `[${CRI}.containerd.runtimes.based]
  runtime_type = "io.containerd.runc.v2"
  base_runtime_spec = "${baseSpec}"
  [${CRI}.containerd.runtimes.based.options]
    BinaryName = "runc"
    Root = "${dir}/runc"
`,
    });
    await env.client.image.PullImage({ image: { image: env.busyboxImage } });
    pod = await runPod(env, 'based', 'based');
  }, 180_000);

  afterAll(async () => {
    await env?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it("starts the handler's containers from its base_runtime_spec, the CRI request winning where both set a key", async () => {
    const id = await runContainer(env, pod, containerConfig(env, 'based', 'sleep 1000', { envs: [{ key: 'OVERRIDDEN', value: Buffer.from('cri') }] }));
    const limits = await exec(env, id, 'grep "Max open files" /proc/self/limits');
    expect(limits.split(/\s+/).slice(3, 5)).toEqual(['555', '777']);
    expect(await exec(env, id, 'echo "$FROM_BASE $OVERRIDDEN"')).toBe('base cri\n');
    const spec = JSON.parse((await env.client.runtime.ContainerStatus({ container_id: id, verbose: true })).info.info).runtimeSpec;
    expect(spec.annotations['example.com/from-base']).toBe('yes');
    expect(spec.annotations['io.kubernetes.cri.container-type']).toBe('container');
  });
});
