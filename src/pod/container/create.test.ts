import { describe, expect, it } from 'vitest';
import type { ContainerConfig__Output } from '../../generated/runtime/v1/ContainerConfig.ts';
import type { PodSandboxConfig__Output } from '../../generated/runtime/v1/PodSandboxConfig.ts';
import type { ImageRecord } from '../../image/image-store.ts';
import { containerName, stopSignalFor } from './create.ts';

const config = (extra: Partial<ContainerConfig__Output>) =>
  ({ metadata: { name: 'app', attempt: 2 }, ...extra }) as ContainerConfig__Output;
const image = (stopSignal: string) => ({ config: { stopSignal } }) as ImageRecord;

describe('container create helpers', () => {
  it('names a container like containerd', () => {
    const pod = { metadata: { name: 'web', namespace: 'prod', uid: 'u-1', attempt: 0 } } as PodSandboxConfig__Output;
    expect(containerName(config({}), pod)).toBe('app_web_prod_u-1_2');
  });

  it('takes the stop signal from the config, else the image, else SIGTERM', () => {
    expect(stopSignalFor(config({ stop_signal: 'SIGQUIT' }), image('SIGINT'))).toBe('SIGQUIT');
    expect(stopSignalFor(config({ stop_signal: 'RUNTIME_DEFAULT' }), image('SIGINT'))).toBe('SIGINT');
    expect(stopSignalFor(config({}), image(''))).toBe('SIGTERM');
  });
});
