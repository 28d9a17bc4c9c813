// Archives written by a real tool, skopeo (Debian package), import as crid's own test archives do:
// its docker-archive (a classic `docker save` tar: <sha>.tar layers, a symlinked layer.tar,
// repositories) and its oci-archive (the name in org.opencontainers.image.ref.name only).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageService } from '../../src/image/image-service.ts';
import { silentLogger } from '../../src/log.ts';
import { pauseArchive } from '../helpers/image-builder.ts';

let work: string;
let source: string;

async function importWith(format: 'docker-archive' | 'oci-archive', name: string) {
  const out = join(work, `${format}.tar`);
  await execa('skopeo', ['--insecure-policy', 'copy', `oci-archive:${source}`, `${format}:${out}:${name}`]);
  const images = await ImageService.open({ root: join(work, format), registryConfigPath: '', log: silentLogger });
  const [image, ...rest] = await images.importArchive(createReadStream(out));
  expect(rest).toEqual([]);
  const pause = await readFile(join(images.snapshotter.layerPath(image!.layers[0]!.chainId), 'pause'));
  return { image: image!, pause };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'crid-import-skopeo-'));
  source = join(work, 'source.tar');
  await writeFile(source, await pauseArchive('example.com/source:1'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('archives skopeo writes', () => {
  it('docker-archive: the classic docker save layout', async () => {
    const { image, pause } = await importWith('docker-archive', 'example.com/pause:3.10');
    expect(image.repoTags).toEqual(['example.com/pause:3.10']);
    expect(image.config).toMatchObject({ entrypoint: ['/pause', '-P'] });
    expect(pause.equals(await readFile('/usr/bin/catatonit'))).toBe(true);
  });

  it('oci-archive: the name as a full org.opencontainers.image.ref.name', async () => {
    const { image, pause } = await importWith('oci-archive', 'registry.k8s.io/pause:3.10');
    expect(image.repoTags).toEqual(['registry.k8s.io/pause:3.10']);
    expect(pause.equals(await readFile('/usr/bin/catatonit'))).toBe(true);
  });
});
