// Settings device and RuntimeClass pods rely on, in real containers: a handler's base_runtime_spec,
// CDI devices from spec files.
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

/** A spec whose device brings /dev/null under a new name, a host directory and an env var. */
function cdiSpec(dataDir: string, envValue: string): string {
  return JSON.stringify({
    cdiVersion: '0.6.0',
    kind: 'crid.test/dev',
    devices: [
      {
        name: 'null0',
        containerEdits: {
          deviceNodes: [{ path: '/dev/cdi-null', hostPath: '/dev/null' }],
          mounts: [{ hostPath: dataDir, containerPath: '/cdi-data', options: ['ro', 'bind'] }],
          env: [`CDI_ENV=${envValue}`],
        },
      },
    ],
  });
}

/** Turns CDI on with the test's own spec directories (kept out of the host's /etc/cdi) and restarts crid. */
async function enableCdi(env: PodEnv, specDirs: string[]): Promise<void> {
  const text = fs.readFileSync(env.configFile, 'utf8');
  const table = `[${CRI}]\n`;
  const cdi = `  enable_cdi = true\n  cdi_spec_dirs = ${JSON.stringify(specDirs)}\n`;
  fs.writeFileSync(env.configFile, text.replace(table, table + cdi));
  await env.restart();
}

describe('handler settings in real containers', () => {
  let env: PodEnv;
  let dir: string;
  let pod: TestPod;
  let cdiDirs: string[];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-handler-settings-'));
    const baseSpec = path.join(dir, 'base-spec.json');
    fs.writeFileSync(baseSpec, JSON.stringify(BASE_SPEC));
    cdiDirs = [path.join(dir, 'etc-cdi'), path.join(dir, 'run-cdi')];
    for (const d of [...cdiDirs, path.join(dir, 'data')]) fs.mkdirSync(d);
    fs.writeFileSync(path.join(dir, 'data', 'file'), 'cdi-mounted\n');
    fs.writeFileSync(path.join(cdiDirs[0]!, 'crid-test.json'), cdiSpec(path.join(dir, 'data'), 'one'));
    env = await startPodEnv({
      extraRuntimes: async () => `[${CRI}.containerd.runtimes.based]
  runtime_type = "io.containerd.runc.v2"
  base_runtime_spec = "${baseSpec}"
  [${CRI}.containerd.runtimes.based.options]
    BinaryName = "runc"
    Root = "${dir}/runc"
`,
    });
    await enableCdi(env, cdiDirs);
    await env.client.image.PullImage({ image: { image: env.busyboxImage } });
    pod = await runPod(env, 'based', 'based');
  }, 180_000);

  afterAll(async () => {
    await env?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it("starts the handler's containers from its base_runtime_spec, the CRI request winning where both set a key", async () => {
    const id = await runContainer(
      env,
      pod,
      containerConfig(env, 'based', 'sleep 1000', { envs: [{ key: 'OVERRIDDEN', value: Buffer.from('cri') }] }),
    );
    const limits = await exec(env, id, 'grep "Max open files" /proc/1/limits');
    expect(limits.split(/\s+/).slice(3, 5)).toEqual(['555', '777']);
    expect(await exec(env, id, 'echo "$FROM_BASE $OVERRIDDEN"')).toBe('base cri\n');
    const spec = JSON.parse(
      (await env.client.runtime.ContainerStatus({ container_id: id, verbose: true })).info.info,
    ).runtimeSpec;
    expect(spec.annotations['example.com/from-base']).toBe('yes');
    expect(spec.annotations['io.kubernetes.cri.container-type']).toBe('container');
  });

  it("starts the handler's pod sandboxes from its base_runtime_spec too", async () => {
    const { pid } = JSON.parse(
      (await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: pod.id, verbose: true })).info.info,
    );
    const line = fs
      .readFileSync(`/proc/${pid}/limits`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'))!;
    expect(line.split(/\s+/).slice(3, 5)).toEqual(['555', '777']);
  });

  it("injects a CDI device's node, mount and env into a running container, by CDI_devices or annotation", async () => {
    const byField = await runContainer(
      env,
      pod,
      containerConfig(env, 'cdi-field', 'sleep 1000', { CDI_devices: [{ name: 'crid.test/dev=null0' }] }),
    );
    const byAnnotation = await runContainer(
      env,
      pod,
      containerConfig(env, 'cdi-annotation', 'sleep 1000', {
        annotations: { 'cdi.k8s.io/test': 'crid.test/dev=null0' },
      }),
    );
    for (const id of [byField, byAnnotation]) {
      expect(await exec(env, id, 'test -c /dev/cdi-null && echo written > /dev/cdi-null && echo node-ok')).toBe(
        'node-ok\n',
      );
      expect(await exec(env, id, 'cat /cdi-data/file; echo "$CDI_ENV"')).toBe('cdi-mounted\none\n');
    }
  });

  it('fails CreateContainer with InvalidArgument naming an unknown CDI device', async () => {
    const config = containerConfig(env, 'cdi-unknown', 'sleep 1000', {
      CDI_devices: [{ name: 'crid.test/dev=missing' }],
    });
    await expect(
      env.client.runtime.CreateContainer({ pod_sandbox_id: pod.id, config, sandbox_config: pod.config }),
    ).rejects.toMatchObject({
      code: 3,
      details: expect.stringContaining('crid.test/dev=missing'),
    });
  });

  it('reads a CDI spec again when it changes, and a higher-priority directory wins', async () => {
    fs.writeFileSync(path.join(cdiDirs[0]!, 'crid-test.json'), cdiSpec(path.join(dir, 'data'), 'changed'));
    const changed = await runContainer(
      env,
      pod,
      containerConfig(env, 'cdi-changed', 'sleep 1000', { CDI_devices: [{ name: 'crid.test/dev=null0' }] }),
    );
    expect(await exec(env, changed, 'echo "$CDI_ENV"')).toBe('changed\n');
    fs.writeFileSync(path.join(cdiDirs[1]!, 'crid-test.json'), cdiSpec(path.join(dir, 'data'), 'run-dir'));
    const overridden = await runContainer(
      env,
      pod,
      containerConfig(env, 'cdi-run', 'sleep 1000', { CDI_devices: [{ name: 'crid.test/dev=null0' }] }),
    );
    expect(await exec(env, overridden, 'echo "$CDI_ENV"')).toBe('run-dir\n');
  });
});
