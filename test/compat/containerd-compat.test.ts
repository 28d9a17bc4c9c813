// Where kubelet or a tool can tell crid from containerd, crid answers as containerd does. Each case
// goes through crid's socket with real pods and containers.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { podConfig, withPodEnv, type PodEnv } from '../helpers/pod-env.ts';
import { buildLayer, busyboxEntries, dir, file, pushImage, symlink } from '../helpers/image-builder.ts';
import {
  containerConfig,
  logFile,
  logRecords,
  runContainer,
  runPod,
  status,
  waitExited,
} from '../container/container-env.ts';

describe('containerd compatibility', () => {
  let env: PodEnv;

  withPodEnv((started) => {
    env = started;
  });

  it('writes a last line without newline as a partial record', async () => {
    const pod = await runPod(env, 'partial', 'runc');
    const id = await runContainer(env, pod, containerConfig(env, 'tail', "printf 'whole\\nabcd'"));
    await waitExited(env, id);
    expect(logRecords(fs.readFileSync(logFile(pod, 'tail'), 'utf8'))).toEqual([
      ['stdout', 'F', 'whole'],
      ['stdout', 'P', 'abcd'],
    ]);
    await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
  });

  it('echoes the handler the pod asked for, "" for the default, with the resolved one in verbose info', async () => {
    const byDefault = await runPod(env, 'default-handler', '');
    const named = await runPod(env, 'named-handler', 'runc');
    const s = await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: byDefault.id, verbose: true });
    expect(s.status!.runtime_handler).toBe('');
    expect(JSON.parse(s.info.info).runtimeHandler).toBe('runc');
    expect((await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: named.id })).status!.runtime_handler).toBe(
      'runc',
    );
    const { items } = await env.client.runtime.ListPodSandbox({});
    const handlers = Object.fromEntries(
      items.map((p: { id: string; runtime_handler: string }) => [p.id, p.runtime_handler]),
    );
    expect(handlers[byDefault.id]).toBe('');
    expect(handlers[named.id]).toBe('runc');
    for (const pod of [byDefault, named]) await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
  });

  it('refuses a custom hostname for a pod on the host network, and keeps nothing of it', async () => {
    const hostNetwork = { security_context: { namespace_options: { network: 'NODE' } } };
    const config = podConfig('hostnet-hostname', { hostname: 'custom-name', linux: hostNetwork });
    await expect(env.client.runtime.RunPodSandbox({ config, runtime_handler: 'runc' })).rejects.toMatchObject({
      code: 3,
      details: expect.stringContaining('host network'),
    });
    expect((await env.client.runtime.ListPodSandbox({})).items).toEqual([]);
    const { pod_sandbox_id: id } = await env.client.runtime.RunPodSandbox({
      config: podConfig('hostnet-hostname', { hostname: '', linux: hostNetwork }),
      runtime_handler: 'runc',
    });
    await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: id });
  });

  it('removes an image a running container uses; the container runs on, reports the old id and is removable', async () => {
    const pod = await runPod(env, 'image-gone', 'runc');
    const id = await runContainer(env, pod, containerConfig(env, 'sleeper', 'sleep 600'));
    const before = (await status(env, id)).status!;
    const imageId: string = before.image_id;
    expect(imageId).toMatch(/^sha256:/);
    const byPrefix = await env.client.image.ImageStatus({
      image: { image: imageId.slice('sha256:'.length, 'sha256:'.length + 12) },
    });
    expect(byPrefix.image!.id).toBe(imageId);

    await env.client.image.RemoveImage({ image: { image: env.busyboxImage } });
    expect((await env.client.image.ImageStatus({ image: { image: imageId } })).image).toBeNull();
    const after = (await status(env, id)).status!;
    expect(after.state).toBe('CONTAINER_RUNNING');
    expect(after.image_id).toBe(imageId);
    const exec = await env.client.runtime.ExecSync({
      container_id: id,
      cmd: ['/bin/sh', '-c', 'echo still here'],
      timeout: 10,
    });
    expect(exec.stdout.toString()).toBe('still here\n');

    await env.client.runtime.StopContainer({ container_id: id, timeout: 1 });
    expect((await status(env, id)).status!.image_id).toBe(imageId);
    await env.client.runtime.RemoveContainer({ container_id: id });
    await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
    await env.client.image.PullImage({ image: { image: env.busyboxImage } });
  });

  it("ends a stop at the caller's deadline without killing: the container keeps running", async () => {
    const pod = await runPod(env, 'stop-cancel', 'runc');
    const id = await runContainer(
      env,
      pod,
      containerConfig(env, 'stubborn', "trap '' TERM; while true; do sleep 1; done"),
    );
    await expect(env.client.runtime.StopContainer({ container_id: id, timeout: 3 }, 1000)).rejects.toMatchObject({
      code: 4,
    });
    // Past the 3 s grace period the call would have had: no SIGKILL came.
    await new Promise((r) => setTimeout(r, 4000));
    expect((await status(env, id)).status!.state).toBe('CONTAINER_RUNNING');
    await env.client.runtime.StopContainer({ container_id: id, timeout: 1 });
    const s = (await status(env, id)).status!;
    expect(s.state).toBe('CONTAINER_EXITED');
    expect(s.exit_code).toBe(137);
    await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
  }, 30_000);

  it("gives each image VOLUME a host directory with the image's content, bind-mounted, removed with the container", async () => {
    const base = await buildLayer(await busyboxEntries());
    const content = await buildLayer([
      dir('data', { uid: 1234, gid: 2345, mode: 0o750 }),
      file('data/seed.txt', 'from the image\n', { uid: 1234, gid: 2345 }),
      dir('real-cache'),
      file('real-cache/hit', 'cached\n'),
      symlink('cache', '/real-cache'),
    ]);
    await pushImage(env.registry.address, 'crid-test/volumes', [base, content], {
      tag: 'v1',
      config: { Cmd: ['/bin/sh'], Volumes: { '/data': {}, '/cache': {}, '/mounted': {} } },
    });
    const image = `${env.registry.address}/crid-test/volumes:v1`;
    await env.client.image.PullImage({ image: { image } });
    const pod = await runPod(env, 'volumes', 'runc');
    const ownMount = fs.mkdtempSync(path.join(env.dir, 'own-'));
    const id = await runContainer(
      env,
      pod,
      containerConfig(env, 'vol', 'echo written >> /data/seed.txt; sleep 600', {
        image: { image },
        mounts: [{ container_path: '/mounted', host_path: ownMount }],
      }),
    );
    const seen = await env.client.runtime.ExecSync({
      container_id: id,
      cmd: [
        '/bin/sh',
        '-c',
        'cat /data/seed.txt; stat -c %u:%g:%a /data; cat /cache/hit; grep -c " /data \\| /real-cache \\| /mounted " /proc/mounts',
      ],
      timeout: 10,
    });
    expect(seen.stdout.toString()).toBe('from the image\nwritten\n1234:2345:750\ncached\n3\n');

    const volumes = path.join(env.dir, 'root/containers', id, 'volumes');
    const onHost = fs.readdirSync(volumes).map((v) => path.join(volumes, v));
    expect(onHost).toHaveLength(2);
    const data = onHost.find((v) => fs.existsSync(path.join(v, 'seed.txt')))!;
    expect(fs.readFileSync(path.join(data, 'seed.txt'), 'utf8')).toBe('from the image\nwritten\n');
    expect(fs.statSync(path.join(data, 'seed.txt')).uid).toBe(1234);

    await env.client.runtime.StopContainer({ container_id: id, timeout: 0 });
    await env.client.runtime.RemoveContainer({ container_id: id });
    expect(fs.existsSync(path.join(env.dir, 'root/containers', id))).toBe(false);
    await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
  });

  it('creates a container whose command does not exist; StartContainer fails and leaves it EXITED with StartError 128', async () => {
    const pod = await runPod(env, 'start-error', 'runc');
    const config = containerConfig(env, 'missing', '', { command: ['something-that-doesnt-exist'] });
    const { container_id: id } = await env.client.runtime.CreateContainer({
      pod_sandbox_id: pod.id,
      config,
      sandbox_config: pod.config,
    });
    expect((await status(env, id)).status!.state).toBe('CONTAINER_CREATED');
    await expect(env.client.runtime.StartContainer({ container_id: id })).rejects.toMatchObject({
      details: expect.stringContaining('something-that-doesnt-exist'),
    });
    const s = (await status(env, id)).status!;
    expect(s).toMatchObject({ state: 'CONTAINER_EXITED', exit_code: 128, reason: 'StartError' });
    expect(s.message).toContain('something-that-doesnt-exist');
    await env.client.runtime.RemoveContainer({ container_id: id });
    // The name is free again: the same container can be created (and this time run) under it.
    const again = await env.client.runtime.CreateContainer({
      pod_sandbox_id: pod.id,
      config: containerConfig(env, 'missing', 'exit 0'),
      sandbox_config: pod.config,
    });
    await env.client.runtime.StartContainer({ container_id: again.container_id });
    expect((await waitExited(env, again.container_id)).reason).toBe('Completed');
    await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
  });

  it('keeps a created container CREATED through stop, a crid restart and a resource update, then starts it', async () => {
    const pod = await runPod(env, 'created', 'runc');
    const { container_id: id } = await env.client.runtime.CreateContainer({
      pod_sandbox_id: pod.id,
      config: containerConfig(env, 'later', 'sleep 600'),
      sandbox_config: pod.config,
    });
    await env.client.runtime.StopContainer({ container_id: id, timeout: 0 });
    expect((await status(env, id)).status!.state).toBe('CONTAINER_CREATED');
    await env.restart('SIGKILL');
    expect((await status(env, id)).status!.state).toBe('CONTAINER_CREATED');
    await env.client.runtime.UpdateContainerResources({ container_id: id, linux: { cpu_shares: '777' } });
    await env.client.runtime.StartContainer({ container_id: id });
    expect((await status(env, id)).status!.state).toBe('CONTAINER_RUNNING');
    const shares = await env.client.runtime.ExecSync({
      container_id: id,
      cmd: ['/bin/sh', '-c', 'cat /sys/fs/cgroup/cpu/cpu.shares'],
      timeout: 10,
    });
    expect(shares.stdout.toString().trim()).toBe('777');
    await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
  });
});
