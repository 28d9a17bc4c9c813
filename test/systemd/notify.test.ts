// crid started as a Type=notify unit: a fake NOTIFY_SOCKET receiver stands in for systemd.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { CRID } from '../helpers/crid-process.ts';
import { criClient, type CriClient } from '../helpers/cri-client.ts';
import { readUnit } from './unit-file.ts';
import { FakeSystemd } from './fake-systemd.ts';

describe('crid under systemd (Type=notify)', () => {
  let dir: string;
  let systemd: FakeSystemd;
  let crid: ChildProcess;
  let client: CriClient;
  let socket: string;

  beforeAll(async () => {
    // crid notifies through systemd's systemd-notify (Debian package systemd): fail plainly without it.
    await execa('systemd-notify', ['--version']);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-notify-'));
    socket = path.join(dir, 'crid.sock');
    const config = path.join(dir, 'crid.toml');
    fs.writeFileSync(
      config,
      `version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]\n  runtime_type = "io.containerd.runc.v2"\n[plugins."io.containerd.grpc.v1.cri".cni]\n  conf_dir = "${dir}/net.d"\n[crid]\n  root = "${dir}/root"\n  state = "${dir}/state"\n  metrics_address = ""\n`,
    );
    const notifySocket = path.join(dir, 'notify.sock');
    systemd = new FakeSystemd(notifySocket);
    await systemd.next((m) => m === 'listening');
    // The unit's ExecStart, with this checkout's crid and the test's config.
    const [, ...args] = readUnit().get('Service', 'ExecStart')!.replace('/etc/crid/crid.toml', config).split(' ');
    crid = spawn(CRID, [...args, '--socket', socket], {
      stdio: 'ignore',
      env: { ...process.env, NOTIFY_SOCKET: notifySocket },
    });
  });

  afterAll(() => {
    client?.close();
    crid?.kill('SIGKILL');
    systemd?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('sends READY=1 with a one-line STATUS only once recovery is done: the CRI socket then answers', async () => {
    const ready = await systemd.next((m) => m.includes('READY=1'));
    expect(ready).toBe(`READY=1 STATUS=serving CRI on ${socket}: 0 pods, 0 containers; handlers: runc ok`);
    client = criClient(socket);
    // crid answers Status with Unavailable until its recovery finished: READY=1 before that would fail here.
    await expect(client.runtime.Status({})).resolves.toMatchObject({ status: { conditions: expect.any(Array) } });
  });

  it('sends a fresh STATUS after a reload (SIGHUP, as ExecReload sends)', async () => {
    expect(readUnit().get('Service', 'ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    crid.kill('SIGHUP');
    expect(await systemd.next((m) => m.startsWith('STATUS='))).toBe(
      `STATUS=serving CRI on ${socket}: 0 pods, 0 containers; handlers: runc ok`,
    );
  });

  it('sends STOPPING=1 on SIGTERM and exits 0', async () => {
    const exited = new Promise((resolve) => crid.once('exit', resolve));
    crid.kill('SIGTERM');
    expect(await systemd.next((m) => m.includes('STOPPING=1'))).toBe(
      'STOPPING=1 STATUS=stopping on SIGTERM; pods keep running',
    );
    expect(await exited).toBe(0);
  });
});
