import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CridConfig } from './model.ts';
import { builtinRuncHandler, emptyHandler } from './defaults.ts';
import { findShimBinary, podHandlerName, resolveHandler, shimBinaryName, shimKind } from './resolve.ts';
import { isKind } from '../errors.ts';

const handler = (name: string, runtime_type: string, extra: object = {}) => ({ ...emptyHandler(name), runtime_type, ...extra });
const config = {
  default_runtime_name: 'runc',
  runtimes: {
    runc: builtinRuncHandler(),
    crun: handler('crun', 'io.containerd.runc.v2', { options: { BinaryName: 'crun' } }),
    kata: handler('kata', 'io.containerd.kata.v2'),
    'runc-v1': handler('runc-v1', 'io.containerd.runtime.v1.linux'),
  },
} as unknown as CridConfig;

describe('resolveHandler', () => {
  it('"" is the default handler, a name is that handler', () => {
    expect(resolveHandler(config, '').name).toBe('runc');
    expect(resolveHandler(config, 'crun').options).toEqual({ BinaryName: 'crun' });
  });

  it('an unknown handler is InvalidArgument in containerd words, listing handlers and the default', () => {
    let error: unknown;
    try {
      resolveHandler(config, 'nope');
    } catch (err) {
      error = err;
    }
    expect(isKind(error, 'InvalidArgument')).toBe(true);
    expect((error as Error).message).toBe('no runtime for "nope" is configured (configured handlers: crun, kata, runc, runc-v1; default: runc)');
    expect(() => resolveHandler(config, 'toString')).toThrow('no runtime for "toString" is configured');
  });
});

describe('podHandlerName (untrusted workloads)', () => {
  const noHost = { hostNetwork: false, hostPid: false, hostIpc: false };
  const untrusted = { 'io.kubernetes.cri.untrusted-workload': 'true' };
  it('sends annotated pods to "untrusted" and refuses explicit handlers or host access', () => {
    expect(podHandlerName('crun', {}, noHost)).toBe('crun');
    expect(podHandlerName('', untrusted, noHost)).toBe('untrusted');
    expect(() => podHandlerName('crun', untrusted, noHost)).toThrow('untrusted workload with explicit runtime handler is not allowed');
    expect(() => podHandlerName('', untrusted, { ...noHost, hostPid: true })).toThrow('untrusted workload with host access is not allowed');
  });
});

describe('shim binaries', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'crid-shims-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the binary from the runtime_type as containerd does', () => {
    expect(shimBinaryName('io.containerd.runc.v2')).toBe('containerd-shim-runc-v2');
    expect(shimBinaryName('io.containerd.kata.v2')).toBe('containerd-shim-kata-v2');
    expect(shimBinaryName('io.containerd.runtime.v1.linux')).toBe('containerd-shim');
    expect(shimBinaryName('/opt/shim')).toBe('/opt/shim');
    expect(shimBinaryName('runc')).toBe('');
    expect(shimKind(config.runtimes['runc-v1']!)).toBe('v1');
    expect(shimKind(config.runtimes.kata!)).toBe('v2');
  });

  it('finds it in PATH, honours runtime_path, and reports a missing one in containerd words', () => {
    const shim = path.join(dir, 'containerd-shim-fake-v2');
    writeFileSync(shim, '#!/bin/sh\n');
    chmodSync(shim, 0o755);
    expect(findShimBinary(handler('f', 'io.containerd.fake.v2'), `/nonexistent:${dir}`)).toBe(shim);
    expect(findShimBinary(handler('f', 'io.containerd.other.v2', { runtime_path: shim }), '')).toBe(shim);
    expect(findShimBinary(builtinRuncHandler(), '/usr/bin')).toBe('/usr/bin/containerd-shim-runc-v2');
    expect(() => findShimBinary(config.runtimes.kata!, dir)).toThrow(
      'runtime "io.containerd.kata.v2" binary not installed "containerd-shim-kata-v2": file does not exist',
    );
    expect(() => findShimBinary(handler('f', 'io.containerd.x.v2', { runtime_path: path.join(dir, 'missing') }), dir)).toThrow(
      'invalid custom binary path',
    );
  });
});
