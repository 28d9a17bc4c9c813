import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { criClient, type CriClient } from '../helpers/cri-client.ts';
import { startCrid, waitForSocket, type CridProcess } from '../helpers/crid-process.ts';

const CONFIG = `version = 2
[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "runc"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun.options]
      BinaryName = "crun"
      SystemdCgroup = false
`;

describe('crid serve', () => {
  let dir: string;
  let socket: string;
  let configFile: string;
  let crid: CridProcess;
  let client: CriClient;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-serve-'));
    socket = path.join(dir, 'run', 'crid.sock');
    configFile = path.join(dir, 'config.toml');
    fs.writeFileSync(
      configFile,
      `${CONFIG}\n[plugins."io.containerd.grpc.v1.cri".cni]\n  conf_dir = "${dir}/net.d"\n[crid]\n  root = "${dir}/root"\n  state = "${dir}/state"\n  metrics_address = ""\n`,
    );
    crid = startCrid(configFile, socket);
    await waitForSocket(crid);
    client = criClient(socket);
  });

  afterAll(async () => {
    client?.close();
    await crid?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers Version', async () => {
    const res = await client.runtime.Version({ version: '0.1.0' });
    expect(res).toMatchObject({ runtime_name: 'crid', runtime_api_version: 'v1' });
    expect(res.runtime_version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('lists every configured handler in Status', async () => {
    const res = await client.runtime.Status({ verbose: true });
    expect(res.runtime_handlers.map((h: { name: string }) => h.name)).toEqual(['', 'crun', 'runc']);
    const runtimeReady = res.status!.conditions.find((c) => c.type === 'RuntimeReady');
    expect(runtimeReady!.status).toBe(true);
    expect(JSON.parse(res.info.cridConfig).default_runtime_name).toBe('runc');
    const containerdShape = JSON.parse(res.info.config);
    expect(containerdShape.containerd.defaultRuntimeName).toBe('runc');
    expect(Object.keys(containerdShape.containerd.runtimes).sort()).toEqual(['crun', 'runc']);
    expect(containerdShape.containerd.runtimes.crun.options.BinaryName).toBe('crun');
    expect(containerdShape.maxContainerLogSize).toBe(16384);
    expect(containerdShape.cni.confDir).toBe(`${dir}/net.d`);
  });

  it('reports NetworkReady=false with a reason while no CNI config exists', async () => {
    const res = await client.runtime.Status({});
    const network = res.status!.conditions.find((c) => c.type === 'NetworkReady');
    expect(network).toMatchObject({ status: false, reason: 'NetworkPluginNotReady' });
    expect(network!.message).toContain(`no network config found in ${dir}/net.d`);
  });

  it('reports the cgroup driver of the default handler', async () => {
    const res = await client.runtime.RuntimeConfig({});
    expect(res.linux!.cgroup_driver).toBe('CGROUPFS');
  });

  it('answers UNIMPLEMENTED naming an RPC it does not implement yet', async () => {
    await expect(client.runtime.CheckpointContainer({ container_id: 'x' })).rejects.toMatchObject({
      code: 12,
      details: expect.stringContaining('CheckpointContainer'),
    });
  });

  it('rejects a malformed pod CIDR with InvalidArgument', async () => {
    await expect(
      client.runtime.UpdateRuntimeConfig({ runtime_config: { network_config: { pod_cidr: 'not a cidr' } } }),
    ).rejects.toMatchObject({ code: 3 });
  });

  it('answers clients that send the socket path as :authority (older Go gRPC: crictl, kubelet)', async () => {
    const http2 = await import('node:http2');
    const net = await import('node:net');
    const session = http2.connect('http://localhost', { createConnection: () => net.connect(socket) });
    const answer = await new Promise<{ status: unknown; grpcStatus: unknown; bytes: number }>((resolve, reject) => {
      const req = session.request({
        ':method': 'POST',
        ':path': '/runtime.v1.RuntimeService/Version',
        ':authority': socket,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      let status: unknown;
      let bytes = 0;
      req.on('response', (h) => (status = h[':status']));
      req.on('data', (d: Buffer) => (bytes += d.length));
      req.on('trailers', (t) => resolve({ status, grpcStatus: t['grpc-status'], bytes }));
      req.on('error', reject);
      req.end(Buffer.from([0, 0, 0, 0, 0]));
    });
    session.close();
    expect(answer).toMatchObject({ status: 200, grpcStatus: '0' });
    expect(answer.bytes).toBeGreaterThan(5);
  });

  it('creates the socket with mode 0660 owned by root', () => {
    const stat = fs.statSync(socket);
    expect(stat.isSocket()).toBe(true);
    expect(stat.mode & 0o777).toBe(0o660);
    expect(stat.uid).toBe(0);
    expect(stat.gid).toBe(0);
  });

  it('refuses a second instance on a live socket', async () => {
    const second = startCrid(configFile, socket);
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toContain(`already serving on ${socket}`);
    // the first one still answers
    await expect(client.runtime.Version({})).resolves.toMatchObject({ runtime_name: 'crid' });
  });

  it('replaces a stale socket file and stops cleanly on SIGTERM', async () => {
    const staleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-stale-'));
    const staleSocket = path.join(staleDir, 'crid.sock');
    const { createServer } = await import('node:net');
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(staleSocket, r));
    // close the listener without unlinking the path: a socket file nobody answers on
    (holder as unknown as { _handle: { close(): void } })._handle.close();
    const other = startCrid(configFile, staleSocket);
    await waitForSocket(other);
    const c = criClient(staleSocket);
    await expect(c.runtime.Version({})).resolves.toMatchObject({ runtime_name: 'crid' });
    c.close();
    expect(await other.stop('SIGTERM')).toBe(0);
    expect(fs.existsSync(staleSocket)).toBe(false);
    fs.rmSync(staleDir, { recursive: true, force: true });
  });

  it('does not start on malformed TOML and names the position', async () => {
    const bad = path.join(dir, 'bad.toml');
    fs.writeFileSync(bad, 'version = 2\n[plugins\nfoo = 1\n');
    const badSocket = path.join(dir, 'bad.sock');
    const proc = startCrid(bad, badSocket);
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toMatch(new RegExp(`${bad.replace(/[.]/g, '\\.')}:2:\\d+`));
    expect(fs.existsSync(badSocket)).toBe(false);
  });
});
