import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CridConfig } from '../config/model.ts';
import { builtinRuncHandler, emptyHandler } from '../config/defaults.ts';
import { findShimBinary, isRuncKind, shimBinaryName, shimKind } from './shim-binary.ts';

const handler = (name: string, runtime_type: string, extra: object = {}) => ({
  ...emptyHandler(name),
  runtime_type,
  ...extra,
});
const config = {
  default_runtime_name: 'runc',
  runtimes: {
    runc: builtinRuncHandler(),
    kata: handler('kata', 'io.containerd.kata.v2'),
    'runc-v1': handler('runc-v1', 'io.containerd.runtime.v1.linux'),
  },
} as unknown as CridConfig;

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

  it('tells the runc-kind runtimes (tasks join the netns by path) from VM shims', () => {
    expect(isRuncKind(config.runtimes['runc-v1']!)).toBe(true);
    expect(isRuncKind(config.runtimes.kata!)).toBe(false);
    expect(isRuncKind(handler('runc', 'io.containerd.runc.v2'))).toBe(true);
    expect(isRuncKind(handler('runc1', 'io.containerd.runc.v1'))).toBe(true);
    expect(isRuncKind(handler('gvisor', 'io.containerd.runsc.v1'))).toBe(false);
    expect(isRuncKind(handler('abs', '/usr/bin/containerd-shim-runc-v2'))).toBe(true);
    expect(isRuncKind(handler('abs-kata', '/opt/kata/bin/containerd-shim-kata-v2'))).toBe(false);
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
    expect(() =>
      findShimBinary(handler('f', 'io.containerd.x.v2', { runtime_path: path.join(dir, 'missing') }), dir),
    ).toThrow('invalid custom binary path');
  });
});
