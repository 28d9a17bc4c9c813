import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { startPodEnv, podConfig, type PodEnv } from '../helpers/pod-env.ts';

describe('pod sandboxes', () => {
  let env: PodEnv;

  beforeAll(async () => {
    env = await startPodEnv();
  }, 180_000);

  afterAll(async () => {
    await env?.dispose();
  }, 120_000);

  it('runs a pod on the default handler with an IP the host reaches', async () => {
    const { pod_sandbox_id: id } = await env.client.runtime.RunPodSandbox({ config: podConfig('p-default') });
    const { status, info } = await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: id, verbose: true });
    expect(status.state).toBe('SANDBOX_READY');
    expect(status.runtime_handler).toBe('runc');
    expect(status.network.ip).toMatch(new RegExp(`^${env.cni.subnetPrefix.replace(/\./g, '\\.')}`));
    const details = JSON.parse(info.info);
    expect(fs.readFileSync(`/proc/${details.pid}/cmdline`, 'utf8')).toContain('/pause');
    await env.client.runtime.StopPodSandbox({ pod_sandbox_id: id });
    expect((await env.client.runtime.PodSandboxStatus({ pod_sandbox_id: id })).status.state).toBe('SANDBOX_NOTREADY');
    expect(fs.existsSync(`/proc/${details.pid}`)).toBe(false);
    await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: id });
    await expect(env.client.runtime.PodSandboxStatus({ pod_sandbox_id: id })).rejects.toMatchObject({ code: 5 });
  });

  it('refuses an unknown handler with the configured ones listed, leaving nothing', async () => {
    await expect(
      env.client.runtime.RunPodSandbox({ config: podConfig('p-nope'), runtime_handler: 'nope' }),
    ).rejects.toMatchObject({ code: 3, details: expect.stringContaining('no runtime for "nope" is configured') });
    const { items } = await env.client.runtime.ListPodSandbox({});
    expect(items.filter((p: any) => p.metadata.name === 'p-nope')).toEqual([]);
  });

  it('rejects a config without a namespace, naming the field', async () => {
    const config = podConfig('p-bad');
    (config.metadata as any).namespace = '';
    await expect(env.client.runtime.RunPodSandbox({ config })).rejects.toMatchObject({
      code: 3,
      details: expect.stringContaining('metadata.namespace'),
    });
  });
});
