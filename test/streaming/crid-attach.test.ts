// Attach with stdin through a real crid, the way the CRI clients do it: critest's conformance case
// (stdin_once shell, input written once the output has settled, answer without a newline) and
// crictl's `echo … | crictl attach -i` (stdin closed right after writing, the session must end).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startPodEnv, type PodEnv } from '../helpers/pod-env.ts';
import { containerConfig, runContainer, runPod, status, waitExited, type TestPod } from '../container/container-env.ts';
import { dialSpdy, openCommandStreams, readAll } from './clients.ts';

const HANDLERS = ['runc', 'crun', 'runc-v1'];

let env: PodEnv;
const pods = new Map<string, TestPod>();

beforeAll(async () => {
  env = await startPodEnv();
  await env.client.image.PullImage({ image: { image: env.busyboxImage } });
  for (const handler of HANDLERS) pods.set(handler, await runPod(env, `attach-${handler}`, handler));
}, 180_000);

afterAll(async () => {
  await env?.dispose();
}, 120_000);

/** Attaches with stdin, stdout and stderr over SPDY v4, as critest and crictl do; collects the output. */
async function attach(containerId: string) {
  const request = { container_id: containerId, stdin: true, stdout: true, stderr: true, tty: false };
  const { url } = await env.client.runtime.Attach(request);
  const streams = await openCommandStreams(await dialSpdy(url, ['v4.channel.k8s.io']), request);
  const output = { stdout: '', stderr: '' };
  streams.stdout.on('data', (d: Buffer) => (output.stdout += d.toString()));
  streams.stderr!.on('data', (d: Buffer) => (output.stderr += d.toString()));
  return { ...streams, stdin: streams.stdin!, output, status: readAll(streams.error) };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 1500));

describe.each(HANDLERS)('attach with stdin on %s', (handler) => {
  it('critest: a stdin_once shell answers input written after the output settled, and exits when stdin closes', async () => {
    const pod = pods.get(handler)!;
    const id = await runContainer(env, pod, {
      ...containerConfig(env, 'shell', ''),
      command: ['/bin/sh'],
      stdin: true,
      stdin_once: true,
    });
    const session = await attach(id);
    await settle();
    session.stdin.write('echo -n hello\n');
    await vi.waitFor(() => expect(session.output.stdout).toBe('hello'), { timeout: 30_000, interval: 100 });
    session.stdin.end();
    expect(JSON.parse(await session.status)).toEqual({ metadata: {}, status: 'Success' });
    expect(session.output.stderr).toBe('');
    expect((await waitExited(env, id)).exit_code).toBe(0);
    session.session.close();
  }, 60_000);

  it('crictl: `echo … | crictl attach -i` shows the answer and ends; the container keeps its stdin', async () => {
    const pod = pods.get(handler)!;
    const id = await runContainer(
      env,
      pod,
      containerConfig(env, 'reader', 'while read l; do echo got:$l; done', { stdin: true }),
    );
    const first = await attach(id);
    await settle();
    first.stdin.end('hello-attach\n');
    expect(JSON.parse(await first.status)).toEqual({ metadata: {}, status: 'Success' });
    expect(first.output.stdout).toBe('got:hello-attach\n');
    first.session.close();

    const second = await attach(id);
    second.stdin.end('again\n');
    expect(JSON.parse(await second.status)).toEqual({ metadata: {}, status: 'Success' });
    expect(second.output.stdout).toBe('got:again\n');
    expect((await status(env, id)).status!.state).toBe('CONTAINER_RUNNING');
    second.session.close();
  }, 60_000);
});
