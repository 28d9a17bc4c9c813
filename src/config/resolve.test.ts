import { describe, expect, it } from 'vitest';
import type { CridConfig } from './model.ts';
import { builtinRuncHandler, emptyHandler } from './defaults.ts';
import { podHandlerName, resolveHandler } from './resolve.ts';
import { isKind } from '../errors.ts';

const handler = (name: string, runtime_type: string, extra: object = {}) => ({
  ...emptyHandler(name),
  runtime_type,
  ...extra,
});
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
    expect((error as Error).message).toBe(
      'no runtime for "nope" is configured (configured handlers: crun, kata, runc, runc-v1; default: runc)',
    );
    expect(() => resolveHandler(config, 'toString')).toThrow('no runtime for "toString" is configured');
  });
});

describe('podHandlerName (untrusted workloads)', () => {
  const noHost = { hostNetwork: false, hostPid: false, hostIpc: false };
  const untrusted = { 'io.kubernetes.cri.untrusted-workload': 'true' };
  it('sends annotated pods to "untrusted" and refuses explicit handlers or host access', () => {
    expect(podHandlerName('crun', {}, noHost)).toBe('crun');
    expect(podHandlerName('', untrusted, noHost)).toBe('untrusted');
    expect(() => podHandlerName('crun', untrusted, noHost)).toThrow(
      'untrusted workload with explicit runtime handler is not allowed',
    );
    expect(() => podHandlerName('', untrusted, { ...noHost, hostPid: true })).toThrow(
      'untrusted workload with host access is not allowed',
    );
  });
});
