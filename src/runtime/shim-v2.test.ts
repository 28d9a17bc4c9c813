import { describe, expect, it } from 'vitest';
import { encodeMessage, unpackAny } from '../ttrpc/codec.ts';
import type { RuntimeHandler } from '../config/model.ts';
import { runtimeOptionsAny } from './runtime-options.ts';
import { parseStartOutput, shimArgs, type ShimV2Invocation } from './shim-v2.ts';

const inv: ShimV2Invocation = {
  binary: '/usr/bin/containerd-shim-runc-v2',
  bundle: '/run/crid/tasks/k8s.io/c1',
  id: 'c1',
  namespace: 'k8s.io',
  address: '/run/crid/crid.sock',
  eventsAddress: '/run/crid/events.sock',
  publishBinary: '/usr/bin/crid',
  timeoutMs: 1000,
};

function handler(runtimeType: string, options: Record<string, unknown>): RuntimeHandler {
  return { name: 'h', runtime_type: runtimeType, options } as RuntimeHandler;
}

describe('shim start output', () => {
  it('accepts a bare address without newline, or with spaces around it', () => {
    const address = 'unix:///run/containerd/s/85d6483a27e8cc55a879d6f2d70516f93a471d2b8eb48f9832abea63ab4c9496';
    expect(parseStartOutput(Buffer.from(address))).toEqual({ version: 2, address, protocol: 'ttrpc' });
    expect(parseStartOutput(Buffer.from(` ${address}\n`)).address).toBe(address);
  });

  it('accepts bootstrap JSON and a protobuf BootstrapResult', () => {
    const json = '{"version":3,"address":"unix:///run/x.sock","protocol":"ttrpc"}';
    expect(parseStartOutput(Buffer.from(json))).toEqual({
      version: 3,
      address: 'unix:///run/x.sock',
      protocol: 'ttrpc',
    });
    const pb = encodeMessage('containerd.runtime.bootstrap.v1.BootstrapResult', {
      version: 3,
      address: 'unix:///run/y.sock',
      protocol: 'ttrpc',
    });
    expect(parseStartOutput(pb)).toEqual({ version: 3, address: 'unix:///run/y.sock', protocol: 'ttrpc' });
  });

  it('rejects garbage and empty output, naming what was printed', () => {
    expect(() => parseStartOutput(Buffer.from([0xde, 0xad, 0xbe, 0xef]))).toThrow(/printed no address/);
    expect(() => parseStartOutput(Buffer.from(''))).toThrow(/printed no address: ""/);
    expect(() => parseStartOutput(Buffer.from('{"version":2}'))).toThrow(/no address/);
  });
});

describe('shim invocation', () => {
  it('builds start and delete argv like containerd 1.6', () => {
    expect(shimArgs(inv, 'start')).toEqual([
      '-namespace',
      'k8s.io',
      '-address',
      '/run/crid/crid.sock',
      '-publish-binary',
      '/usr/bin/crid',
      '-id',
      'c1',
      'start',
    ]);
    expect(shimArgs(inv, 'delete')).toEqual([
      '-namespace',
      'k8s.io',
      '-address',
      '/run/crid/crid.sock',
      '-publish-binary',
      '/usr/bin/crid',
      '-id',
      'c1',
      '-bundle',
      '/run/crid/tasks/k8s.io/c1',
      'delete',
    ]);
  });
});

describe('runtime options', () => {
  it('sends containerd.runc.v1.Options with the exact type URL for runc shims', () => {
    const any = runtimeOptionsAny(
      handler('io.containerd.runc.v2', { BinaryName: 'crun', Root: '/run/crun', SystemdCgroup: true }),
    )!;
    expect(any.type_url).toBe('containerd.runc.v1.Options');
    expect(unpackAny(any)).toMatchObject({ binary_name: 'crun', root: '/run/crun', systemd_cgroup: true });
  });

  it('sends runtimeoptions.v1.Options for other shims, nothing without an options table', () => {
    const any = runtimeOptionsAny(handler('io.containerd.kata.v2', { ConfigPath: '/etc/kata/configuration.toml' }))!;
    expect(any.type_url).toBe('runtimeoptions.v1.Options');
    expect(unpackAny(any)).toMatchObject({ config_path: '/etc/kata/configuration.toml' });
    expect(runtimeOptionsAny(handler('io.containerd.runc.v2', {}))).toBeUndefined();
  });
});
