// ListImages through crid's socket with a real registry, filtered as `crictl images X` asks:
// a repository without tag lists all its tags (as `docker images REPO`); repo:tag, repo@digest,
// the image id and an id prefix name one image.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestHex } from '../../src/reference/digest.ts';
import { criClient, type CriClient } from '../helpers/cri-client.ts';
import { startCrid, waitForSocket, type CridProcess } from '../helpers/crid-process.ts';
import { buildLayer, file, pushImage, type PushedImage } from '../helpers/image-builder.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

let dir: string;
let registry: TestRegistry;
let crid: CridProcess;
let client: CriClient;
let repo: string;
let old: PushedImage;
let current: PushedImage;
let extra: PushedImage;

async function listed(image: string): Promise<string[]> {
  const { images } = await client.image.ListImages({ filter: { image: { image } } });
  return images.map((i: { id: string }) => i.id).sort();
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-image-list-'));
  registry = await startRegistry();
  repo = `${registry.address}/e2e-test-images/busybox`;
  const push = async (repository: string, tag: string) =>
    pushImage(registry.address, repository, [await buildLayer([file('version', tag)])], {
      tag,
      config: { Labels: { version: tag } },
    });
  old = await push('e2e-test-images/busybox', '1.29-2');
  current = await push('e2e-test-images/busybox', '1.36');
  extra = await push('e2e-test-images/busybox-extra', '1.0');
  const configFile = path.join(dir, 'config.toml');
  fs.writeFileSync(
    configFile,
    `version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  conf_dir = "${dir}/net.d"\n[crid]\n  root = "${dir}/root"\n  state = "${dir}/state"\n  metrics_address = ""\n`,
  );
  crid = startCrid(configFile, path.join(dir, 'crid.sock'));
  await waitForSocket(crid);
  client = criClient(crid.socket);
  for (const ref of [`${repo}:1.29-2`, `${repo}:1.36`, `${registry.address}/e2e-test-images/busybox-extra:1.0`]) {
    await client.image.PullImage({ image: { image: ref } });
  }
}, 120_000);

afterAll(async () => {
  client?.close();
  await crid?.stop();
  await registry?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('ListImages filter', () => {
  it('a repository without tag lists every tag of it, and nothing of a repository that only starts alike', async () => {
    expect(await listed(repo)).toEqual([old.configDigest, current.configDigest].sort());
    expect(await listed(`${registry.address}/e2e-test-images/absent`)).toEqual([]);
  });

  it('repo:tag and repo@digest name one image', async () => {
    expect(await listed(`${repo}:1.36`)).toEqual([current.configDigest]);
    expect(await listed(`${repo}@${old.manifestDigest}`)).toEqual([old.configDigest]);
    expect(await listed(`${repo}:2.0`)).toEqual([]);
  });

  it('the image id, full or a prefix, with or without sha256:, names one image', async () => {
    const hex = digestHex(extra.configDigest);
    expect(await listed(extra.configDigest)).toEqual([extra.configDigest]);
    expect(await listed(hex)).toEqual([extra.configDigest]);
    expect(await listed(hex.slice(0, 13))).toEqual([extra.configDigest]);
    expect(await listed(`sha256:${hex.slice(0, 13)}`)).toEqual([extra.configDigest]);
  });

  it('no filter lists everything', async () => {
    expect(await listed('')).toEqual([old.configDigest, current.configDigest, extra.configDigest].sort());
  });
});
