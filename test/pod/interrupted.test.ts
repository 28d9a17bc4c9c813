// crid SIGKILLed at chosen points of a task's life, made reachable by an OCI runtime that pauses after
// one verb (a wrapper around runc): after the restart everything must be removable, and nothing may be
// left of the task: no runtime state, no process, no bundle, no shim work directory.
import { expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { processGone, withPodEnv, withToolsDir, type PodEnv } from '../helpers/pod-env.ts';
import {
  containerConfig,
  createContainer,
  runContainer,
  runPod,
  status,
  waitForFile,
  type TestPod,
} from '../container/container-env.ts';

const CRI = 'plugins."io.containerd.grpc.v1.cri".containerd.runtimes';
const PAUSE_S = 4;

let env: PodEnv;
const tools = withToolsDir('crid-slow-runtime-');

/**
 * A runc that, after `verb` succeeded (or before it runs), appends its arguments to `<marker>` and
 * sleeps. Appends: a pod's containers share its pid namespace, so they die with it and their deletes
 * run alongside the sandbox's; a marker each call overwrote could hide the call a test waits for.
 */
function slowRuntime(name: string, verb: string, when: 'before' | 'after'): string {
  const file = path.join(tools(), `${name}.sh`);
  const marker = path.join(tools(), `${name}.marker`);
  const pause = `echo "$*" >> ${marker}; sleep ${PAUSE_S}`;
  fs.writeFileSync(
    file,
    `#!/bin/sh
verb=""
for a in "$@"; do case "$a" in create|start|delete|kill) verb=$a; break;; esac; done
if [ "$verb" != "${verb}" ]; then exec runc "$@"; fi
${when === 'before' ? `${pause}\nexec runc "$@"` : `runc "$@"; rc=$?; ${pause}; exit $rc`}
`,
    { mode: 0o755 },
  );
  return file;
}

const root = (name: string) => path.join(tools(), `${name}-root`);
const marker = (name: string) => path.join(tools(), `${name}.marker`);

function handlers(): string {
  const v2 = (name: string, verb: string, when: 'before' | 'after') => `[${CRI}.${name}]
  runtime_type = "io.containerd.runc.v2"
  [${CRI}.${name}.options]
    BinaryName = "${slowRuntime(name, verb, when)}"
    Root = "${root(name)}"
`;
  const v1 = (name: string, verb: string, when: 'before' | 'after') => `[${CRI}.${name}]
  runtime_type = "io.containerd.runtime.v1.linux"
  [${CRI}.${name}.options]
    Runtime = "${slowRuntime(name, verb, when)}"
    RuntimeRoot = "${root(name)}"
`;
  return [
    v2('v2-slow-create', 'create', 'after'),
    v1('v1-slow-create', 'create', 'after'),
    v2('v2-slow-delete', 'delete', 'before'),
    v1('v1-slow-delete', 'delete', 'before'),
  ].join('');
}

withPodEnv(
  (e) => {
    env = e;
  },
  { extraRuntimes: async () => handlers() },
);

/** What the OCI runtime, crid's bundles and the legacy shims' work dirs still hold. */
function leftovers(handler: string): string[] {
  const list = (dir: string) =>
    fs.existsSync(dir) ? fs.readdirSync(dir).map((e) => `${path.relative(env.dir, dir) || dir}/${e}`) : [];
  return [
    ...list(path.join(root(handler), 'k8s.io')),
    ...list(path.join(env.dir, 'state/tasks/k8s.io')),
    ...list(path.join(env.dir, 'state/v1-work/k8s.io')),
  ];
}

/** The init pid the runtime recorded for a container (its state.json). */
function runtimePid(handler: string, id: string): number {
  return JSON.parse(fs.readFileSync(path.join(root(handler), 'k8s.io', id, 'state.json'), 'utf8')).init_process_pid;
}

async function removePod(pod: TestPod): Promise<void> {
  await env.client.runtime.StopPodSandbox({ pod_sandbox_id: pod.id });
  await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
  const left = (await env.client.runtime.ListPodSandbox({})).items.map((p: { id: string }) => p.id);
  expect(left).not.toContain(pod.id);
}

for (const handler of ['v2-slow-create', 'v1-slow-create']) {
  it(`${handler}: crid killed while StartContainer's task is being created; the container starts again and its pod is removed without a trace`, async () => {
    const pod = await runPod(env, `killed-in-create-${handler}`, handler);
    const id = await createContainer(env, pod, containerConfig(env, 'app', 'sleep 1000'));
    fs.rmSync(marker(handler), { force: true });
    const start = env.client.runtime.StartContainer({ container_id: id }).catch((err: Error) => err);
    const args = await waitForFile(marker(handler), (text) => text.includes(id));
    expect(args).toContain('create');
    const initPid = runtimePid(handler, id);
    await env.crid.stop('SIGKILL');
    await start;
    await env.restart();

    expect((await status(env, id)).status!.state).toBe('CONTAINER_CREATED');
    fs.rmSync(marker(handler), { force: true });
    await env.client.runtime.StartContainer({ container_id: id });
    expect((await status(env, id)).status!.state).toBe('CONTAINER_RUNNING');
    await removePod(pod);
    expect(await processGone(initPid), `the interrupted create's process ${initPid} is still there`).toBe(true);
    expect(leftovers(handler)).toEqual([]);
  });
}

for (const handler of ['v2-slow-delete', 'v1-slow-delete']) {
  it(`${handler}: crid killed while an exited pod sandbox's task is being deleted; the pod is removed without a trace`, async () => {
    const pod = await runPod(env, `killed-in-delete-${handler}`, handler);
    const app = await runContainer(env, pod, containerConfig(env, 'app', 'sleep 1000'));
    const { pid, shimPid } = JSON.parse(
      (await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: pod.id, verbose: true })).info.info,
    );
    fs.rmSync(marker(handler), { force: true });
    process.kill(pid, 'SIGKILL');
    await waitForFile(marker(handler), (text) => text.includes(pod.id));
    await env.crid.stop('SIGKILL');
    await env.restart();

    await env.client.runtime.RemoveContainer({ container_id: app });
    await removePod(pod);
    expect(await processGone(pid)).toBe(true);
    expect(await processGone(shimPid), `the pod's shim ${shimPid} is still there`).toBe(true);
    expect(leftovers(handler)).toEqual([]);
  });
}

for (const [handler, files] of [
  ['runc', ['address', 'bootstrap.json']],
  ['runc-v1', ['address', 'shim.pid']],
] as const) {
  it(`${handler}: crid killed between launching a pod's shim and recording its address; the shim does not outlive the pod`, async () => {
    const pod = await runPod(env, `unrecorded-shim-${handler}`, handler);
    const { shimPid } = JSON.parse(
      (await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: pod.id, verbose: true })).info.info,
    );
    await env.crid.stop('SIGKILL');
    const bundle = path.join(env.dir, 'state/tasks/k8s.io', pod.id);
    for (const file of files) fs.rmSync(path.join(bundle, file), { force: true });
    await env.restart();

    await removePod(pod);
    expect(await processGone(shimPid), `the pod's shim ${shimPid} is still there`).toBe(true);
    expect(leftovers(handler)).toEqual([]);
  });
}
