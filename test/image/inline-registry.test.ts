// containerd 1.x's inline registry settings against a real docker-registry: registry.mirrors
// endpoints, registry.configs credentials, and config_path winning where both are set.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryHostConfig } from '../../src/config/model.ts';
import { ImageService } from '../../src/image/image-service.ts';
import { silentLogger } from '../../src/log.ts';
import { buildLayer, busyboxEntries, pushImage, type PushedImage } from '../helpers/image-builder.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

const user = { username: 'bob', password: 'inline secret' };
let open: TestRegistry;
let locked: TestRegistry;
let work: string;
let app: PushedImage;
let n = 0;

async function service(
  mirrors: Record<string, string[]>,
  configs: Record<string, RegistryHostConfig>,
  registryConfigPath = '',
): Promise<ImageService> {
  return ImageService.open({
    root: join(work, `root-${n++}`),
    registryConfigPath,
    log: silentLogger,
    inlineRegistry: { mirrors, configs },
  });
}

beforeAll(async () => {
  open = await startRegistry();
  locked = await startRegistry({ htpasswd: user });
  work = await mkdtemp(join(tmpdir(), 'crid-inline-registry-'));
  const layer = await buildLayer(await busyboxEntries());
  app = await pushImage(open.address, 'team/app', [layer], { tag: 'v1' });
  await pushImage(locked.address, 'team/app', [layer], { tag: 'v1', auth: user });
});

afterAll(async () => {
  await open?.stop();
  await locked?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('inline registry settings', () => {
  it('pulls an image of a registry host through its registry.mirrors endpoint', async () => {
    const images = await service({ 'registry.invalid': [`http://${open.address}`] }, {});
    expect((await images.pull('registry.invalid/team/app:v1')).id).toBe(app.configDigest);
    expect(open.requests()).toContain('GET /v2/team/app/manifests/v1');
  });

  it('uses the "*" mirror for hosts without their own', async () => {
    const images = await service({ '*': [`http://${open.address}`] }, {});
    expect((await images.pull('other.invalid/team/app:v1')).id).toBe(app.configDigest);
  });

  it("sends registry.configs credentials of the endpoint's host when the pull brings none", async () => {
    const ref = `${locked.address}/team/app:v1`;
    await expect((await service({}, {})).pull(ref)).rejects.toMatchObject({ kind: 'FailedPrecondition' });
    const configs = { [locked.address]: { auth: { ...user, auth: '', identitytoken: '' } } };
    expect((await (await service({}, configs)).pull(ref)).id).toBe(app.configDigest);
  });

  it('ignores registry.mirrors when config_path is set, as containerd does', async () => {
    const before = open.requests().length;
    const images = await service({ 'registry.invalid': [`http://${open.address}`] }, {}, join(work, 'hosts.d'));
    await expect(images.pull('registry.invalid/team/app:v2')).rejects.toThrow();
    expect(open.requests().length).toBe(before);
  });
});
