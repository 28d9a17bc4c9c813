import { describe, expect, it } from 'vitest';
import { onBaseSpec } from './base-spec.ts';
import type { Spec } from './spec-types.ts';

const built = (): Spec => ({
  ociVersion: '1.0.2-dev',
  process: { user: { uid: 0, gid: 0 }, args: ['sh'], env: ['PATH=/bin', 'A=crid'], cwd: '/' },
  root: { path: 'rootfs' },
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc', options: [] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: [] },
  ],
  annotations: { 'io.kubernetes.cri.container-type': 'container' },
  linux: {
    namespaces: [{ type: 'mount' }],
    resources: { devices: [{ allow: false, access: 'rwm' }], memory: { limit: 1n << 62n } },
    maskedPaths: [],
    readonlyPaths: [],
  },
});

describe('onBaseSpec', () => {
  it("keeps what crid does not set, and lets crid's values win key by key", () => {
    const base = {
      ociVersion: '1.0.0',
      hooks: { prestart: [{ path: '/bin/true' }] },
      process: { env: ['A=base', 'B=base'], rlimits: [{ type: 'RLIMIT_NOFILE', hard: 10, soft: 10 }], args: ['base'] },
      annotations: { extra: '1', 'io.kubernetes.cri.container-type': 'base' },
      linux: {
        sysctl: { 'net.ipv4.ip_forward': '1' },
        resources: { pids: { limit: 5 }, devices: [{ allow: true, access: 'rwm' }] },
      },
    };
    const spec = onBaseSpec(base, built()) as Spec & Record<string, unknown>;
    expect(spec.ociVersion).toBe('1.0.2-dev');
    expect(spec.hooks).toEqual(base.hooks);
    expect(spec.process.args).toEqual(['sh']);
    expect(spec.process.env).toEqual(['A=crid', 'B=base', 'PATH=/bin']);
    expect(spec.process.rlimits).toEqual(base.process.rlimits);
    expect(spec.annotations).toEqual({ extra: '1', 'io.kubernetes.cri.container-type': 'container' });
    expect(spec.linux.sysctl).toEqual({ 'net.ipv4.ip_forward': '1' });
    expect(spec.linux.resources).toEqual({
      pids: { limit: 5 },
      devices: [{ allow: false, access: 'rwm' }],
      memory: { limit: 1n << 62n },
    });
  });

  it("keeps the base's own mounts after crid's, dropping those crid mounts at the same destination", () => {
    const base = {
      mounts: [
        { destination: '/proc/', type: 'proc', source: 'base', options: [] },
        { destination: '/dev/fuse', type: 'bind', source: '/dev/fuse', options: ['bind'] },
      ],
    };
    expect(onBaseSpec(base, built()).mounts.map((m) => `${m.destination}:${m.source}`)).toEqual([
      '/proc:proc',
      '/dev:tmpfs',
      '/dev/fuse:/dev/fuse',
    ]);
  });
});
