// A client, a pod or a process that misbehaves ends its own operation, never crid: port-forwards
// whose far side vanishes at each moment (SPDY and WebSocket), exec/attach clients that hang up
// at each phase, CRI clients killed mid-call. After each, crid answers and the pod is removable.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SpdyStream } from 'spdy-transport';
import { startPodEnv, type PodEnv } from '../helpers/pod-env.ts';
import { containerConfig, runContainer, runPod, type TestPod } from '../container/container-env.ts';
import { dialSpdy, dialWebSocket, openCommandStreams, readAll, type SpdySession, type WsSession } from './clients.ts';
import { dialSpdystream } from './spdystream-client.ts';

/** Nothing listens there inside the pod. */
const CLOSED_PORT = 9999;
/** Reads a few bytes of each connection and closes it while the client is still sending. */
const SINK_PORT = 9001;
/** Sends zeros on each connection for as long as the client reads. */
const SOURCE_PORT = 9002;
const CHUNK = Buffer.alloc(64 * 1024, 'a');

let env: PodEnv;
let pod: TestPod;
let pausePid: number;
let sleeper: string;
let chatty: string;

beforeAll(async () => {
  env = await startPodEnv();
  await env.client.image.PullImage({ image: { image: env.busyboxImage } });
  pod = await runPod(env, 'misbehave', 'runc');
  const { info } = await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: pod.id, verbose: true });
  pausePid = (JSON.parse(info.info) as { pid: number }).pid;
  await runContainer(env, pod, containerConfig(env, 'sink', `exec nc -ll -p ${SINK_PORT} -e head -c 10`));
  await runContainer(env, pod, containerConfig(env, 'source', `exec nc -ll -p ${SOURCE_PORT} -e cat /dev/zero`));
  sleeper = await runContainer(env, pod, containerConfig(env, 'sleeper', 'exec sleep 3600', { stdin: true }));
  chatty = await runContainer(
    env,
    pod,
    containerConfig(env, 'chatty', 'while true; do echo chatter; usleep 2000; done', { stdin: true }),
  );
}, 180_000);

afterAll(async () => {
  await env?.dispose();
}, 120_000);

/**
 * Inodes of the TCP sockets crid holds in the pod's network namespace (its port-forward connections);
 * none once the pod's pause process, and with it the table of the namespace's sockets, is gone.
 */
function cridSocketsInPod(): string[] {
  if (!fs.existsSync(`/proc/${pausePid}/net/tcp`)) return [];
  const inPod = new Set(
    ['tcp', 'tcp6'].flatMap((table) =>
      fs
        .readFileSync(`/proc/${pausePid}/net/${table}`, 'utf8')
        .split('\n')
        .slice(1)
        .map((line) => line.trim().split(/\s+/)[9])
        .filter((inode): inode is string => !!inode && inode !== '0'),
    ),
  );
  const dir = `/proc/${env.crid.child.pid}/fd`;
  return fs
    .readdirSync(dir)
    .flatMap((fd) => /^socket:\[(\d+)\]$/.exec(readlinkOrEmpty(path.join(dir, fd)))?.[1] ?? [])
    .filter((inode) => inPod.has(inode));
}

function readlinkOrEmpty(file: string): string {
  try {
    return fs.readlinkSync(file);
  } catch {
    return '';
  }
}

/** crid still serves, logged no bug, and every connection it made into the pod for port-forwards is gone. */
async function expectCridServes(): Promise<void> {
  expect(env.crid.child.exitCode, env.crid.stderr().slice(-3000)).toBeNull();
  expect((await env.client.runtime.Version({})).runtime_name).toBe('crid');
  expect(
    env.crid
      .stderr()
      .split('\n')
      .filter((line) => line.includes('a crid bug')),
  ).toEqual([]);
  await vi.waitFor(() => expect(cridSocketsInPod()).toEqual([]), { timeout: 10_000 });
}

/** Writes to `stream` until it refuses or breaks. */
function flood(stream: NodeJS.WritableStream & { destroyed?: boolean }): void {
  const more = () => {
    while (!stream.destroyed && stream.write(CHUNK));
  };
  stream.on('drain', more);
  stream.on('error', () => {});
  more();
}

async function spdyForward(port: number): Promise<{ session: SpdySession; data: SpdyStream; error: SpdyStream }> {
  const { url } = await env.client.runtime.PortForward({ pod_sandbox_id: pod.id, port: [port] });
  const session = await dialSpdy(url, ['portforward.k8s.io']);
  const error = await session.open({ streamtype: 'error', port: String(port), requestid: '0' });
  const data = await session.open({ streamtype: 'data', port: String(port), requestid: '0' });
  data.on('error', () => {});
  error.on('error', () => {});
  return { session, data, error };
}

async function wsForward(port: number): Promise<WsSession> {
  const { url } = await env.client.runtime.PortForward({ pod_sandbox_id: pod.id, port: [port] });
  const session = await dialWebSocket(url, ['v4.channel.k8s.io']);
  session.ws.on('error', () => {});
  return session;
}

describe('port-forward over SPDY', () => {
  it('to a port nothing listens on: the client hears why, then hangs up mid-request', async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const { session, data, error } = await spdyForward(CLOSED_PORT);
      data.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(await readAll(error)).toMatch(/refused/i);
      session.close();
    }
    await expectCridServes();
  });

  it('the client hangs up before the connection in the pod is made', async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const { session, data } = await spdyForward(SOURCE_PORT);
      data.write('x');
      session.close();
    }
    await expectCridServes();
  });

  it('the pod closes the connection while the client is still sending', async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const { session, data, error } = await spdyForward(SINK_PORT);
      flood(data);
      await readAll(error);
      session.close();
    }
    await expectCridServes();
  });

  it('the client vanishes while crid writes to it', async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const { session, data } = await spdyForward(SOURCE_PORT);
      await new Promise((resolve) => data.once('data', resolve));
      // The connection the check below must see gone.
      if (attempt === 0) expect(cridSocketsInPod()).toHaveLength(1);
      session.socket.destroy();
    }
    await expectCridServes();
  });
});

describe('port-forward over WebSocket', () => {
  it('to a port nothing listens on: the client hears why, then hangs up mid-request', async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const session = await wsForward(CLOSED_PORT);
      session.send(0, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await vi.waitFor(() => expect(session.text(1)).toMatch(/refused/i), { timeout: 10_000 });
      session.ws.terminate();
    }
    await expectCridServes();
  });

  it('the client hangs up before the connection in the pod is made', async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const session = await wsForward(SOURCE_PORT);
      session.send(0, 'x');
      session.ws.terminate();
    }
    await expectCridServes();
  });

  it('the pod closes the connection while the client is still sending', async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const session = await wsForward(SINK_PORT);
      const sending = setInterval(() => session.send(0, CHUNK), 1);
      await session.closed;
      clearInterval(sending);
    }
    await expectCridServes();
  });

  it('the client vanishes while crid writes to it', async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const session = await wsForward(SOURCE_PORT);
      await vi.waitFor(() => expect(session.messages.length).toBeGreaterThan(2), { timeout: 10_000 });
      session.ws.terminate();
    }
    await expectCridServes();
  });
});

/** Pids of the container's running exec processes (the shim writes one pid file per exec). */
function execsOf(containerId: string): number[] {
  const bundle = JSON.parse(fs.readFileSync(`${env.dir}/root/store/containers/${containerId}.json`, 'utf8'))
    .bundle as string;
  return fs
    .readdirSync(bundle)
    .filter((f) => f.endsWith('.pid') && f !== 'init.pid')
    .map((f) => Number(fs.readFileSync(`${bundle}/${f}`, 'utf8')))
    .filter((pid) => fs.existsSync(`/proc/${pid}`) && !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'));
}

async function expectNoExecs(containerId: string): Promise<void> {
  await vi.waitFor(() => expect(execsOf(containerId)).toEqual([]), { timeout: 10_000 });
}

async function execSpdy(request: Record<string, unknown>) {
  const { url } = await env.client.runtime.Exec(request);
  return openCommandStreams(await dialSpdy(url, ['v4.channel.k8s.io']), request);
}

describe('exec and attach clients that hang up', () => {
  it('after the upgrade, before opening their streams', async () => {
    const { url } = await env.client.runtime.Exec({
      container_id: sleeper,
      cmd: ['/bin/busybox', 'sleep', '100'],
      stdin: true,
      stdout: true,
      stderr: true,
    });
    const session = await dialSpdy(url, ['v4.channel.k8s.io']);
    await session.open({ streamtype: 'error' });
    session.close();
    const ws = await dialWebSocket(
      (await env.client.runtime.Exec({ container_id: sleeper, cmd: ['/bin/busybox', 'sleep', '100'], stdout: true }))
        .url,
      ['v4.channel.k8s.io'],
    );
    ws.ws.terminate();
    await expectCridServes();
    await expectNoExecs(sleeper);
  });

  it('right after opening their streams, while the exec starts', async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const { session, stdin } = await execSpdy({
        container_id: sleeper,
        cmd: ['/bin/busybox', 'cat'],
        stdin: true,
        stdout: true,
        stderr: true,
      });
      stdin!.write('half a line');
      session.close();
    }
    await expectCridServes();
    await expectNoExecs(sleeper);
  });

  it('while crid writes output to them (SPDY and WebSocket)', async () => {
    const { session, stdout } = await execSpdy({
      container_id: sleeper,
      cmd: ['/bin/busybox', 'cat', '/dev/zero'],
      stdout: true,
      stderr: true,
    });
    await new Promise((resolve) => stdout.once('data', resolve));
    session.socket.destroy();
    const ws = await dialWebSocket(
      (
        await env.client.runtime.Exec({
          container_id: sleeper,
          cmd: ['/bin/busybox', 'cat', '/dev/zero'],
          stdout: true,
        })
      ).url,
      ['v5.channel.k8s.io'],
    );
    await vi.waitFor(() => expect(ws.messages.length).toBeGreaterThan(2), { timeout: 10_000 });
    ws.ws.terminate();
    await expectCridServes();
    await expectNoExecs(sleeper);
  });

  it('while they send input, with a resize stream of garbage', async () => {
    const { session, stdin, resize } = await execSpdy({
      container_id: sleeper,
      cmd: ['/bin/busybox', 'cat'],
      stdin: true,
      stdout: true,
      tty: true,
    });
    resize!.write('{"Width":80,"Height":24}}}} not json {');
    flood(stdin!);
    await new Promise((r) => setTimeout(r, 100));
    session.socket.destroy();
    await expectCridServes();
    await expectNoExecs(sleeper);
  });

  it('after the process exited, before reading its status', async () => {
    const { session, stdout } = await execSpdy({
      container_id: sleeper,
      cmd: ['/bin/sh', '-c', 'echo bye; exit 7'],
      stdout: true,
    });
    await new Promise((resolve) => stdout.once('data', resolve));
    await expectNoExecs(sleeper);
    session.socket.destroy();
    await expectCridServes();
  });

  it('that open a stream the session did not ask for and reset it', async () => {
    const PROTOCOL_ERROR = 1;
    const { url } = await env.client.runtime.Exec({
      container_id: sleeper,
      cmd: ['/bin/busybox', 'sleep', '100'],
      stdout: true,
    });
    const client = await dialSpdystream(url, 'v4.channel.k8s.io');
    await client.open(1, { streamtype: 'error' });
    await client.open(3, { streamtype: 'stdout' });
    await vi.waitFor(() => expect(execsOf(sleeper)).toHaveLength(1), { timeout: 10_000 });
    await client.open(5, { streamtype: 'stdout' });
    const rst = Buffer.alloc(16);
    rst.writeUInt32BE(0x80030003, 0);
    rst.writeUInt32BE(8, 4);
    rst.writeUInt32BE(5, 8);
    rst.writeUInt32BE(PROTOCOL_ERROR, 12);
    client.socket.write(rst);
    await expectCridServes();
    client.socket.destroy();
    await expectNoExecs(sleeper);
  });

  it('attached to a container that keeps writing (SPDY and WebSocket)', async () => {
    const { url } = await env.client.runtime.Attach({ container_id: chatty, stdin: true, stdout: true, stderr: true });
    const session = await dialSpdy(url, ['v4.channel.k8s.io']);
    const { stdout, stdin } = await openCommandStreams(session, { stdin: true, stderr: true });
    await new Promise((resolve) => stdout.once('data', resolve));
    stdin!.write('ignored\n');
    session.socket.destroy();
    const ws = await dialWebSocket((await env.client.runtime.Attach({ container_id: chatty, stdout: true })).url, [
      'v4.channel.k8s.io',
    ]);
    await vi.waitFor(() => expect(ws.messages.length).toBeGreaterThan(2), { timeout: 10_000 });
    ws.ws.terminate();
    await expectCridServes();
  });
});

const DOOMED_CLIENT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'doomed-cri-client.ts');

/** Starts a CRI client process that makes one call, to be SIGKILLed in the middle of it. */
function doomedClient(rpc: string, request: object) {
  const child = spawn(process.execPath, [DOOMED_CLIENT, env.socket, rpc, JSON.stringify(request)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    output: () => out,
    printed: (line: string) => vi.waitFor(() => expect(out).toContain(line), { timeout: 10_000 }),
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

describe('CRI clients killed mid-call', () => {
  it('a unary call (ExecSync): crid kills the exec and serves on', async () => {
    const client = doomedClient('ExecSync', {
      container_id: sleeper,
      cmd: ['/bin/busybox', 'sleep', '300'],
      timeout: '0',
    });
    await vi.waitFor(() => expect(execsOf(sleeper), client.output()).toHaveLength(1), { timeout: 20_000 });
    await client.kill();
    await expectNoExecs(sleeper);
    await expectCridServes();
  });

  it('a streaming call (GetContainerEvents): crid keeps publishing to the others', async () => {
    const client = doomedClient('GetContainerEvents', {});
    await client.printed('calling');
    const events = env.client.stream('GetContainerEvents', {});
    const received: unknown[] = [];
    events.on('data', (event: unknown) => received.push(event));
    events.on('error', () => {});
    // Events before crid has the call are not the client's: make one until the client got one.
    let made = 0;
    await vi.waitFor(
      async () => {
        if (!client.output().includes('message'))
          await runContainer(env, pod, containerConfig(env, `blip-${made++}`, 'exec sleep 3600'));
        expect(client.output()).toContain('message');
      },
      { timeout: 30_000, interval: 500 },
    );
    await client.kill();
    const before = received.length;
    await runContainer(env, pod, containerConfig(env, 'after-kill', 'exec sleep 3600'));
    await vi.waitFor(() => expect(received.length).toBeGreaterThan(before), { timeout: 10_000 });
    events.cancel();
    await expectCridServes();
  });
});

it('after all that, the pod and its containers can be removed', async () => {
  await env.client.runtime.StopPodSandbox({ pod_sandbox_id: pod.id });
  await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
  expect((await env.client.runtime.ListPodSandbox({})).items).toEqual([]);
  expect((await env.client.runtime.ListContainers({})).containers).toEqual([]);
  await expectCridServes();
});
