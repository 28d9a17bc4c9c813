import { readdirSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ExecRequest__Output } from '../../src/generated/runtime/v1/ExecRequest.ts';
import { StreamingServer } from '../../src/streaming/server.ts';
import { dialSpdy, dialWebSocket, openCommandStreams, readAll, type SpdySession, type WsSession } from './clients.ts';
import { dialSpdystream } from './spdystream-client.ts';
import { ProcessRuntime } from './process-runtime.ts';

const SH_OUT_ERR_EXIT3 = ['/bin/sh', '-c', 'echo out; echo err >&2; exit 3'];

function execRequest(cmd: string[], over: Partial<ExecRequest__Output> = {}): ExecRequest__Output {
  return { container_id: 'c1', cmd, tty: false, stdin: false, stdout: true, stderr: true, ...over };
}

/** The status of a plain request, on a connection that is not kept alive. */
function httpStatus(url: string, method = 'GET'): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
    req.end();
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let now = Date.now();
const runtime = new ProcessRuntime();
const server = new StreamingServer(runtime, { now: () => now, closeGraceMs: 2000 });
const spdySessions: SpdySession[] = [];
const wsSessions: WsSession[] = [];

const openFds = () => readdirSync('/proc/self/fd').length;
let baselineFds = 0;

beforeAll(async () => {
  await server.start();
  baselineFds = openFds();
});

afterEach(() => {
  for (const s of spdySessions.splice(0)) s.close();
  for (const s of wsSessions.splice(0)) s.ws.terminate();
});

afterAll(async () => {
  await server.stop();
  for (const child of runtime.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

async function spdy(url: string, protocols = ['v4.channel.k8s.io']): Promise<SpdySession> {
  const session = await dialSpdy(url, protocols);
  spdySessions.push(session);
  return session;
}

async function ws(url: string, protocols: string[]): Promise<WsSession> {
  const session = await dialWebSocket(url, protocols);
  wsSessions.push(session);
  return session;
}

describe('URLs and tokens', () => {
  it('mints /exec, /attach and /portforward URLs on the listen address with distinct tokens', () => {
    const { url: a } = server.getExec(execRequest(['true']));
    const { url: b } = server.getExec(execRequest(['true']));
    expect(a).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.address.port}/exec/[A-Za-z0-9_-]{20,}$`));
    expect(a).not.toBe(b);
    expect(
      server.getAttach({ container_id: 'c1', stdin: false, tty: false, stdout: true, stderr: false }).url,
    ).toContain('/attach/');
    expect(server.getPortForward({ pod_sandbox_id: 'p1', port: [80] }).url).toContain('/portforward/');
  });

  it('rejects requests kubelet rejects', () => {
    expect(() => server.getExec(execRequest(['true'], { container_id: '' }))).toThrow(/container_id/);
    expect(() => server.getExec(execRequest(['true'], { tty: true, stderr: true }))).toThrow(/tty and stderr/);
    expect(() => server.getExec(execRequest(['true'], { stdout: false, stderr: false }))).toThrow(/one of stdin/);
    expect(() => server.getPortForward({ pod_sandbox_id: '', port: [] })).toThrow(/pod_sandbox_id/);
  });

  it('answers 404 to an unknown token, a used token and an expired token', async () => {
    const unknown = `${server.baseUrl}/exec/AAAAAAAAAAAAAAAAAAAAAA`;
    expect(await httpStatus(unknown)).toBe(404);
    await expect(dialSpdy(unknown, ['v4.channel.k8s.io'])).rejects.toMatchObject({ statusCode: 404 });
    await expect(dialWebSocket(unknown, ['v4.channel.k8s.io'])).rejects.toMatchObject({ statusCode: 404 });

    const { url } = server.getExec(execRequest(['true']));
    const first = await spdy(url);
    first.close();
    await expect(dialSpdy(url, ['v4.channel.k8s.io'])).rejects.toMatchObject({ statusCode: 404 });

    const { url: stale } = server.getExec(execRequest(['true']));
    now += 61_000;
    await expect(dialSpdy(stale, ['v4.channel.k8s.io'])).rejects.toMatchObject({ statusCode: 404 });
  });

  it('answers 400 to a plain request and 403 to a SPDY client without a common protocol', async () => {
    const { url } = server.getExec(execRequest(['true']));
    expect(await httpStatus(url, 'POST')).toBe(400);
    await expect(dialSpdy(url, ['v9.channel.k8s.io'])).rejects.toMatchObject({ statusCode: 403 });
  });
});

describe('exec over SPDY', () => {
  async function execSpdy(request: ExecRequest__Output, protocols?: string[]) {
    return openCommandStreams(await spdy(server.getExec(request).url, protocols), request);
  }

  it('delivers stdout, stderr and exit code 3 in a v4 Status', async () => {
    const { session, error, stdout, stderr } = await execSpdy(execRequest(SH_OUT_ERR_EXIT3));
    expect(session.protocol).toBe('v4.channel.k8s.io');
    const [out, err, status] = await Promise.all([readAll(stdout), readAll(stderr!), readAll(error)]);
    expect(out).toBe('out\n');
    expect(err).toBe('err\n');
    expect(JSON.parse(status)).toMatchObject({
      metadata: {},
      status: 'Failure',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
  });

  it('reports success as {"metadata":{},"status":"Success"}', async () => {
    const { error, stdout } = await execSpdy(execRequest(['/bin/sh', '-c', 'echo ok'], { stderr: false }));
    expect(await readAll(stdout)).toBe('ok\n');
    expect(await readAll(error)).toBe('{"metadata":{},"status":"Success"}');
  });

  it('delivers stdin to the process and ends it when the client closes stdin', async () => {
    const { error, stdin, stdout } = await execSpdy(execRequest(['/bin/cat'], { stdin: true, stderr: false }));
    stdin!.end('hello through spdy\n');
    expect(await readAll(stdout)).toBe('hello through spdy\n');
    expect(JSON.parse(await readAll(error)).status).toBe('Success');
  });

  it('passes the tty flag and terminal resizes to the runtime', async () => {
    const { error, stdin, resize } = await execSpdy(
      execRequest(['/bin/cat'], { stdin: true, tty: true, stderr: false }),
    );
    resize!.write('{"Width":120,"Height":40}\n{"Width":');
    resize!.write('80,"Height":24}\n');
    await vi.waitFor(() =>
      expect(runtime.resizes.slice(-2)).toEqual([
        { width: 120, height: 40 },
        { width: 80, height: 24 },
      ]),
    );
    expect(runtime.ttys.at(-1)).toBe(true);
    stdin!.end();
    expect(JSON.parse(await readAll(error)).status).toBe('Success');
  });

  it('sends v2/v3 failures as plain text and nothing on success', async () => {
    const failed = await execSpdy(execRequest(SH_OUT_ERR_EXIT3), ['v3.channel.k8s.io']);
    expect(failed.session.protocol).toBe('v3.channel.k8s.io');
    expect(await readAll(failed.error)).toMatch(/^command terminated with non-zero exit code: .*exit code 3$/);
    const ok = await execSpdy(execRequest(['true'], { stderr: false }), ['v2.channel.k8s.io']);
    expect(await readAll(ok.error)).toBe('');
  });

  it('aborts the exec and kills the process when the client disconnects mid-exec', async () => {
    const before = runtime.children.length;
    const { session, stdout } = await execSpdy(
      execRequest(['/bin/sh', '-c', 'echo started; exec sleep 1000'], { stderr: false }),
    );
    stdout.once('data', () => {});
    await vi.waitFor(() => expect(runtime.children.length).toBe(before + 1));
    const child = runtime.children.at(-1)!;
    await vi.waitFor(() => expect(child.pid && isAlive(child.pid)).toBe(true));
    session.close();
    await vi.waitFor(() => expect(runtime.signals.at(-1)!.aborted).toBe(true));
    await vi.waitFor(() => expect(child.exitCode !== null || child.signalCode !== null).toBe(true));
    expect(isAlive(child.pid!)).toBe(false);
    await vi.waitFor(() => expect(server.connectionCount).toBe(0));
  });
});

describe('exec over WebSocket', () => {
  it('v5: stdout/stderr channels and exit code 3 on the error channel', async () => {
    const session = await ws(server.getExec(execRequest(SH_OUT_ERR_EXIT3)).url, [
      'v5.channel.k8s.io',
      'v4.channel.k8s.io',
    ]);
    expect(session.protocol).toBe('v5.channel.k8s.io');
    expect(await session.closed).toBe(1000);
    expect(session.text(1)).toBe('out\n');
    expect(session.text(2)).toBe('err\n');
    expect(JSON.parse(session.text(3))).toMatchObject({
      status: 'Failure',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    expect(session.messages[0]).toEqual({ channel: 1, data: Buffer.alloc(0) });
  });

  it('v5: stdin reaches cat and the close signal ends it', async () => {
    const session = await ws(server.getExec(execRequest(['/bin/cat'], { stdin: true, stderr: false })).url, [
      'v5.channel.k8s.io',
    ]);
    session.send(0, 'hello through websocket\n');
    await vi.waitFor(() => expect(session.text(1)).toBe('hello through websocket\n'));
    session.ws.send(Buffer.of(255, 0));
    expect(await session.closed).toBe(1000);
    expect(session.text(3)).toBe('{"metadata":{},"status":"Success"}');
  });

  it('v4: resize messages on channel 4 reach the runtime', async () => {
    const session = await ws(server.getExec(execRequest(['/bin/cat'], { stdin: true, tty: true, stderr: false })).url, [
      'v4.channel.k8s.io',
    ]);
    session.send(4, '{"Width":132,"Height":43}');
    await vi.waitFor(() => expect(runtime.resizes.at(-1)).toEqual({ width: 132, height: 43 }));
    session.ws.close();
    await session.closed;
  });

  it('v4.base64: text frames with a digit channel and base64 payloads', async () => {
    const session = await ws(server.getExec(execRequest(['/bin/sh', '-c', 'echo b64'], { stderr: false })).url, [
      'v4.base64.channel.k8s.io',
    ]);
    await session.closed;
    const stdout = session.messages
      .filter((m) => m.channel === '1'.charCodeAt(0))
      .map((m) => Buffer.from(m.data.toString(), 'base64').toString());
    expect(stdout.join('')).toBe('b64\n');
  });

  it('aborts the exec when the client goes away', async () => {
    const session = await ws(server.getExec(execRequest(['/bin/sleep', '1000'], { stderr: false })).url, [
      'v5.channel.k8s.io',
    ]);
    const child = await vi.waitFor(() => {
      const c = runtime.children.at(-1)!;
      expect(c.spawnargs).toEqual(['/bin/sleep', '1000']);
      return c;
    });
    session.ws.terminate();
    await vi.waitFor(() => expect(child.signalCode).toBe('SIGKILL'));
    expect(isAlive(child.pid!)).toBe(false);
  });
});

describe('attach', () => {
  it('shows the container output over SPDY and WebSocket', async () => {
    const request = { container_id: 'c1', stdin: false, tty: false, stdout: true, stderr: false };
    const session = await spdy(server.getAttach(request).url);
    const error = await session.open({ streamtype: 'error' });
    const stdout = await session.open({ streamtype: 'stdout' });
    expect(await readAll(stdout)).toBe('attached\n');
    expect(JSON.parse(await readAll(error)).status).toBe('Success');

    const wsSession = await ws(server.getAttach(request).url, ['v5.channel.k8s.io']);
    await wsSession.closed;
    expect(wsSession.text(1)).toBe('attached\n');
  });
});

describe('port-forward', () => {
  let http: Server;
  let port: number;

  beforeAll(async () => {
    http = createServer((_req, res) => res.end('hello from the pod\n'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    port = (http.address() as AddressInfo).port;
  });

  afterAll(async () => {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });

  it('tunnels HTTP over SPDY data/error stream pairs', async () => {
    const session = await spdy(server.getPortForward({ pod_sandbox_id: 'p1', port: [port] }).url, [
      'portforward.k8s.io',
    ]);
    expect(session.protocol).toBe('portforward.k8s.io');
    for (const requestId of ['0', '1']) {
      const error = await session.open({ streamtype: 'error', port: String(port), requestid: requestId });
      const data = await session.open({ streamtype: 'data', port: String(port), requestid: requestId });
      data.end('GET / HTTP/1.0\r\n\r\n');
      const response = await readAll(data);
      expect(response).toMatch(/^HTTP\/1\.1 200 OK/);
      expect(response).toContain('hello from the pod');
      expect(await readAll(error)).toBe('');
    }
  });

  it('reports a refused connection on the error stream', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const session = await spdy(server.getPortForward({ pod_sandbox_id: 'p1', port: [] }).url, ['portforward.k8s.io']);
    const error = await session.open({ streamtype: 'error', port: String(deadPort), requestid: '0' });
    (await session.open({ streamtype: 'data', port: String(deadPort), requestid: '0' })).end();
    expect(await readAll(error)).toMatch(
      new RegExp(`^error forwarding port ${deadPort} to pod p1, uid : .*ECONNREFUSED`),
    );
  });

  it('tunnels HTTP over WebSocket channels, each prefixed with the port', async () => {
    const session = await ws(server.getPortForward({ pod_sandbox_id: 'p1', port: [port] }).url, ['v4.channel.k8s.io']);
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port);
    await vi.waitFor(() =>
      expect(session.messages.slice(0, 2)).toEqual([
        { channel: 0, data: portBytes },
        { channel: 1, data: portBytes },
      ]),
    );
    session.send(0, 'GET / HTTP/1.0\r\n\r\n');
    expect(await session.closed).toBe(1000);
    const data = Buffer.concat(session.messages.filter((m) => m.channel === 0).map((m) => m.data));
    expect(data.subarray(2).toString()).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*hello from the pod/);
  });
});

describe('Go spdystream peers', () => {
  it('serve streams opened without HTTP pseudo-headers and send more than a flow-control window without WINDOW_UPDATE', async () => {
    const request = execRequest(['/bin/sh', '-c', 'head -c 300000 /dev/zero'], { stderr: false });
    const client = await dialSpdystream(server.getExec(request).url, 'v4.channel.k8s.io');
    try {
      await client.open(1, { streamtype: 'error' });
      await client.open(3, { streamtype: 'stdout' });
      const [stdout, status] = await Promise.all([client.received(3), client.received(1)]);
      expect(stdout.length).toBe(300000);
      expect(status.toString()).toBe('{"metadata":{},"status":"Success"}');
    } finally {
      client.socket.destroy();
    }
  });
});

describe('after all sessions', () => {
  it('leaves no connection, process or file descriptor behind', async () => {
    await vi.waitFor(() => expect(server.connectionCount).toBe(0));
    for (const child of runtime.children) expect(child.exitCode !== null || child.signalCode !== null).toBe(true);
    await vi.waitFor(() => expect(openFds()).toBeLessThanOrEqual(baselineFds));
  });
});
