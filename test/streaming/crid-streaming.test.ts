// Exec, Attach and PortForward through a real crid: CRI call → one-time URL → SPDY or WebSocket
// client → exec in the container's shim / its stdio / a connection inside the pod's netns.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fs from 'node:fs';
import { startPodEnv, type PodEnv } from '../helpers/pod-env.ts';
import { containerConfig, runContainer, runPod, type TestPod } from '../container/container-env.ts';
import { dialSpdy, dialWebSocket, openCommandStreams, readAll } from './clients.ts';

let env: PodEnv;
let pod: TestPod;
let sleeper: string;

async function execSpdy(request: Record<string, unknown>) {
  const { url } = await env.client.runtime.Exec(request);
  return openCommandStreams(await dialSpdy(url, ['v4.channel.k8s.io']), request);
}

function execsOf(containerId: string): number[] {
  const bundle = JSON.parse(fs.readFileSync(`${env.dir}/root/store/containers/${containerId}.json`, 'utf8'))
    .bundle as string;
  return fs
    .readdirSync(bundle)
    .filter((f) => f.endsWith('.pid') && f !== 'init.pid')
    .map((f) => Number(fs.readFileSync(`${bundle}/${f}`, 'utf8')));
}

beforeAll(async () => {
  env = await startPodEnv();
  await env.client.image.PullImage({ image: { image: env.busyboxImage } });
  pod = await runPod(env, 'stream', 'runc');
  sleeper = await runContainer(
    env,
    pod,
    containerConfig(env, 'sleeper', 'echo started; exec sleep 3600', { stdin: true }),
  );
}, 180_000);

afterAll(async () => {
  await env?.dispose();
}, 120_000);

describe('exec', () => {
  it('over SPDY: both streams and exit code 3', async () => {
    const { error, stdout, stderr } = await execSpdy({
      container_id: sleeper,
      cmd: ['/bin/sh', '-c', 'echo out; echo err >&2; exit 3'],
      stdout: true,
      stderr: true,
    });
    const [out, err, status] = await Promise.all([readAll(stdout), readAll(stderr!), readAll(error)]);
    expect(out).toBe('out\n');
    expect(err).toBe('err\n');
    expect(JSON.parse(status)).toMatchObject({
      status: 'Failure',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
  });

  it('over SPDY: stdin reaches cat', async () => {
    const { error, stdin, stdout } = await execSpdy({
      container_id: sleeper,
      cmd: ['/bin/busybox', 'cat'],
      stdin: true,
      stdout: true,
    });
    stdin!.end('hello from stdin\n');
    expect(await readAll(stdout)).toBe('hello from stdin\n');
    expect(JSON.parse(await readAll(error)).status).toBe('Success');
  });

  it('over SPDY with a TTY: a terminal resize reaches the process', async () => {
    const { error, stdin, stdout, resize } = await execSpdy({
      container_id: sleeper,
      cmd: ['/bin/sh'],
      stdin: true,
      stdout: true,
      tty: true,
    });
    let out = '';
    stdout.on('data', (d: Buffer) => (out += d.toString()));
    resize!.write('{"Width":123,"Height":45}\n');
    await new Promise((r) => setTimeout(r, 300));
    stdin!.write('stty size; exit 0\n');
    expect(JSON.parse(await readAll(error)).status).toBe('Success');
    expect(out).toContain('45 123');
  });

  it('over WebSocket v5: both channels and exit code 3', async () => {
    const { url } = await env.client.runtime.Exec({
      container_id: sleeper,
      cmd: ['/bin/sh', '-c', 'echo out; echo err >&2; exit 3'],
      stdout: true,
      stderr: true,
    });
    const session = await dialWebSocket(url, ['v5.channel.k8s.io', 'v4.channel.k8s.io']);
    expect(await session.closed).toBe(1000);
    expect(session.text(1)).toBe('out\n');
    expect(session.text(2)).toBe('err\n');
    expect(JSON.parse(session.text(3))).toMatchObject({ details: { causes: [{ reason: 'ExitCode', message: '3' }] } });
  });

  it('leaves no process behind when the client disconnects mid-exec', async () => {
    const before = new Set(execsOf(sleeper));
    const { session, stdout } = await execSpdy({
      container_id: sleeper,
      cmd: ['/bin/sh', '-c', 'echo started; exec sleep 1000'],
      stdout: true,
    });
    await new Promise<void>((resolve) => stdout.once('data', () => resolve()));
    const pids = execsOf(sleeper).filter((p) => !before.has(p));
    expect(pids).toHaveLength(1);
    const pid = pids[0]!;
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('sleep');
    expect(fs.existsSync(`/proc/${pid}`)).toBe(true);
    session.close();
    await vi.waitFor(
      () =>
        expect(fs.existsSync(`/proc/${pid}`) && !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z')).toBe(
          false,
        ),
      { timeout: 10_000 },
    );
  });

  it('refuses an unknown container and a stopped one', async () => {
    await expect(env.client.runtime.Exec({ container_id: 'nope', cmd: ['true'], stdout: true })).rejects.toMatchObject({
      code: 5,
    });
    const done = await runContainer(env, pod, containerConfig(env, 'done', 'true'));
    await vi.waitFor(async () =>
      expect((await env.client.runtime.ContainerStatus({ container_id: done })).status!.state).toBe('CONTAINER_EXITED'),
    );
    await expect(env.client.runtime.Exec({ container_id: done, cmd: ['true'], stdout: true })).rejects.toMatchObject({
      code: 9,
    });
  });
});

describe('attach', () => {
  it('shows the output of a running container and takes its stdin', async () => {
    const talker = await runContainer(
      env,
      pod,
      containerConfig(env, 'talker', 'while read line; do echo "got $line"; done', { stdin: true }),
    );
    const { url } = await env.client.runtime.Attach({ container_id: talker, stdin: true, stdout: true, stderr: true });
    const session = await dialSpdy(url, ['v4.channel.k8s.io']);
    await session.open({ streamtype: 'error' });
    const stdin = await session.open({ streamtype: 'stdin' });
    const stdout = await session.open({ streamtype: 'stdout' });
    await session.open({ streamtype: 'stderr' });
    let out = '';
    stdout.on('data', (d: Buffer) => (out += d.toString()));
    stdin.write('ping\n');
    await vi.waitFor(() => expect(out).toContain('got ping'), { timeout: 10_000 });
    session.close();
  });
});

describe('port-forward', () => {
  it('reaches a busybox httpd listening on the pod loopback and gets HTTP 200', async () => {
    await runContainer(
      env,
      pod,
      containerConfig(
        env,
        'web',
        'mkdir -p /www && echo hello-from-pod > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www',
      ),
    );
    const { url } = await env.client.runtime.PortForward({ pod_sandbox_id: pod.id, port: [8080] });
    const session = await dialSpdy(url, ['portforward.k8s.io']);
    let response = '';
    let request = 0;
    await vi.waitFor(
      async () => {
        const requestid = String(request++);
        const error = await session.open({ streamtype: 'error', port: '8080', requestid });
        const data = await session.open({ streamtype: 'data', port: '8080', requestid });
        data.end('GET /index.html HTTP/1.0\r\n\r\n');
        response = await readAll(data);
        await readAll(error);
        expect(response).toMatch(/^HTTP\/1\.[01] 200/);
      },
      { timeout: 10_000 },
    );
    expect(response).toContain('hello-from-pod');
    session.close();
  });

  it('answers 404 to an unknown token', async () => {
    const { url } = await env.client.runtime.PortForward({ pod_sandbox_id: pod.id, port: [8080] });
    const res = await fetch(url.replace(/portforward\/[^/]+$/, 'portforward/not-a-token'), { method: 'POST' });
    expect(res.status).toBe(404);
  });
});
