import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.ts';
import type { CridConfig, RuntimeHandler } from '../config/model.ts';
import { runtimeConfig } from '../cri/runtime/runtime-config.ts';
import { status } from '../cri/runtime/status.ts';
import { cgroupDriver } from './cgroup-driver.ts';

const handler = (name: string, runtime_type: string, options: Record<string, unknown>) =>
  ({ name, runtime_type, options, runtime_engine: '', runtime_root: '' }) as RuntimeHandler;

describe('cgroupDriver', () => {
  it('is systemd where the shim gets SystemdCgroup: runc v2 and the legacy v1 shim', () => {
    expect(cgroupDriver(handler('runc', 'io.containerd.runc.v2', { SystemdCgroup: true }))).toBe('systemd');
    expect(cgroupDriver(handler('legacy', 'io.containerd.runtime.v1.linux', { SystemdCgroup: true }))).toBe('systemd');
    expect(cgroupDriver(handler('runc', 'io.containerd.runc.v2', { SystemdCgroup: false }))).toBe('cgroupfs');
  });

  it('is cgroupfs for a shim whose options have no such field (a VM shim)', () => {
    expect(
      cgroupDriver(handler('kata', 'io.containerd.kata.v2', { SystemdCgroup: true, ConfigPath: '/etc/kata.toml' })),
    ).toBe('cgroupfs');
  });
});

describe('RuntimeConfig', () => {
  const config = (defaultName: string) =>
    ({
      default_runtime_name: defaultName,
      runtimes: {
        runc: handler('runc', 'io.containerd.runc.v2', { SystemdCgroup: true }),
        kata: handler('kata', 'io.containerd.kata.v2', { SystemdCgroup: true }),
      },
    }) as unknown as CridConfig;

  it('reports the driver in force for the default handler', async () => {
    expect(await runtimeConfig(() => config('runc'))()).toEqual({ linux: { cgroup_driver: 'SYSTEMD' } });
    expect(await runtimeConfig(() => config('kata'))()).toEqual({ linux: { cgroup_driver: 'CGROUPFS' } });
  });
});

describe('Status (verbose)', () => {
  it('reports the cgroup driver in force per handler and what RuntimeDefault means on this host', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-driver-'));
    const file = path.join(dir, 'crid.toml');
    const rt = 'plugins."io.containerd.grpc.v1.cri".containerd.runtimes';
    fs.writeFileSync(
      file,
      `version = 2\n[${rt}.runc]\n  runtime_type = "io.containerd.runc.v2"\n  [${rt}.runc.options]\n    SystemdCgroup = true\n` +
        `[${rt}.kata]\n  runtime_type = "io.containerd.kata.v2"\n  [${rt}.kata.options]\n    SystemdCgroup = true\n`,
    );
    const current = loadConfig(file).config!;
    fs.rmSync(dir, { recursive: true });
    const res = await status({
      config: () => current,
      networkStatus: async () => ({ ready: true, reason: '', message: '' }),
      handlerChecks: () => [],
      handlerFailure: () => undefined,
      host: { apparmor: { enabled: false, defaultProfile: '', profilesFile: '' }, selinuxEnabled: false },
    })({ verbose: true });
    expect(JSON.parse(res.info!.cgroupDrivers!)).toEqual({ runc: 'systemd', kata: 'cgroupfs' });
    expect(JSON.parse(res.info!.security!).apparmor).toBe('not enabled on this host: RuntimeDefault runs unconfined');
  });
});
