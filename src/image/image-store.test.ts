import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log.ts';
import { sha256Of } from '../reference/digest.ts';
import { ImageStore, type ImageRecord } from './image-store.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'crid-image-store-'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

function record(name: string, repoTags: string[], repoDigests: string[] = []): ImageRecord {
  const id = sha256Of(name);
  return {
    id,
    repoTags,
    repoDigests,
    size: 1,
    manifestDigest: sha256Of(`m-${name}`),
    layers: [],
    username: '',
    createdAt: '1',
    config: {
      user: '',
      env: [],
      entrypoint: [],
      cmd: [],
      workingDir: '',
      stopSignal: '',
      labels: {},
      exposedPorts: [],
      volumes: [],
    },
  };
}

describe('ImageStore', () => {
  it('merges tags of one image and moves a tag to a new image', async () => {
    const store = await ImageStore.open(root, silentLogger);
    await store.add(record('a', ['r/x:1'], ['r/x@sha256:1']));
    await store.add(record('a', ['r/x:2']));
    expect(store.get(sha256Of('a'))?.repoTags).toEqual(['r/x:1', 'r/x:2']);
    await store.add(record('b', ['r/x:1']));
    expect(store.get(sha256Of('a'))?.repoTags).toEqual(['r/x:2']);
    expect(store.byReference('r/x:1')?.id).toBe(sha256Of('b'));
    expect(store.byReference('r/x@sha256:1')?.id).toBe(sha256Of('a'));
  });

  it('reloads what it saved, skipping temp files and unreadable records', async () => {
    const store = await ImageStore.open(root, silentLogger);
    await store.add(record('a', ['r/x:1']));
    await store.add(record('b', ['r/y:1']));
    await store.untag('r/y:1');
    await writeFile(join(root, 'images', 'half-written.json.1234.tmp'), '{"vers');
    await writeFile(join(root, 'images', 'garbage.json'), 'not json');
    const reloaded = await ImageStore.open(root, silentLogger);
    expect(
      reloaded
        .list()
        .map((r) => [r.id, r.repoTags])
        .sort(),
    ).toEqual(
      store
        .list()
        .map((r) => [r.id, r.repoTags])
        .sort(),
    );
    expect(await readdir(join(root, 'images'))).not.toContain('half-written.json.1234.tmp');
    await reloaded.delete(sha256Of('a'));
    expect((await ImageStore.open(root, silentLogger)).list().map((r) => r.id)).toEqual([sha256Of('b')]);
  });

  it('finds an image by a unique prefix of its id and refuses an ambiguous one', async () => {
    const store = await ImageStore.open(root, silentLogger);
    // 17 ids: two of them share their first hex digit.
    const names = Array.from({ length: 17 }, (_, i) => `img-${i}`);
    for (const name of names) await store.add(record(name, []));
    const hex = (name: string) => sha256Of(name).slice('sha256:'.length);
    const first = names.map((n) => hex(n)[0]!);
    const shared = first.find((c, i) => first.indexOf(c) !== i)!;
    expect(() => store.byIdPrefix(shared)).toThrow(/image id prefix ".*" is ambiguous/);
    expect(store.byIdPrefix(hex('img-3'))?.id).toBe(sha256Of('img-3'));
    expect(store.byIdPrefix(hex('img-3').slice(0, 20))?.id).toBe(sha256Of('img-3'));
    expect(store.byIdPrefix(sha256Of('img-3').slice(0, 27))?.id).toBe(sha256Of('img-3'));
    expect(store.byIdPrefix('busybox')).toBeUndefined();
  });
});
