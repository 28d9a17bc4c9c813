// Layer extraction: what is kept (owners, modes, times, xattrs, links, devices, whiteouts) and
// what is refused (anything that would write outside the target directory).
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { unpackLayer } from '../../src/image/unpack.ts';
import { silentLogger } from '../../src/log.ts';
import {
  dir,
  file,
  hardlink,
  opaque,
  symlink,
  tarOf,
  whiteout,
  buildLayer,
  type LayerEntry,
  type Compression,
} from '../helpers/image-builder.ts';

let work: string;
let sandbox: string;
let target: string;
let outside: string;
let n = 0;

async function unpack(entries: LayerEntry[], compression: Compression = 'none') {
  const layer = await buildLayer(entries, compression);
  const blob = join(work, `blob-${n++}`);
  await writeFile(blob, layer.bytes);
  return { result: await unpackLayer(blob, target, silentLogger), layer };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'crid-unpack-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));
beforeEach(async () => {
  sandbox = join(work, `case-${n++}`);
  target = join(sandbox, 'target');
  outside = join(sandbox, 'outside');
  await mkdir(target, { recursive: true });
  await mkdir(outside);
  await writeFile(join(outside, 'secret'), 'secret');
});

async function expectNothingOutside(): Promise<void> {
  expect((await readdir(sandbox)).sort()).toEqual(['outside', 'target']);
  expect(await readdir(outside)).toEqual(['secret']);
  expect(await readFile(join(outside, 'secret'), 'utf8')).toBe('secret');
}

describe('unpackLayer keeps', () => {
  it.each<Compression>(['gzip', 'zstd', 'none'])(
    'files, owners, modes, times and the diff id (%s)',
    async (compression) => {
      const { result, layer } = await unpack(
        [
          dir('d', { mode: 0o750, uid: 7, gid: 8, mtime: new Date('2020-01-02T03:04:05Z') }),
          file('d/f', 'hello', { mode: 0o640, uid: 1000, gid: 1001, mtime: new Date('2021-05-06T07:08:09Z') }),
          symlink('d/l', 'f'),
          hardlink('d/h', 'd/f'),
        ],
        compression,
      );
      expect(result.diffId).toBe(layer.diffId);
      const d = await stat(join(target, 'd'));
      expect({ mode: d.mode & 0o7777, uid: d.uid, gid: d.gid, mtime: d.mtime.toISOString() }).toEqual({
        mode: 0o750,
        uid: 7,
        gid: 8,
        mtime: '2020-01-02T03:04:05.000Z',
      });
      const f = await stat(join(target, 'd/f'));
      expect({ mode: f.mode & 0o7777, uid: f.uid, gid: f.gid, nlink: f.nlink, mtime: f.mtime.toISOString() }).toEqual({
        mode: 0o640,
        uid: 1000,
        gid: 1001,
        nlink: 2,
        mtime: '2021-05-06T07:08:09.000Z',
      });
      expect(await readlink(join(target, 'd/l'))).toBe('f');
      expect(await readFile(join(target, 'd/h'), 'utf8')).toBe('hello');
    },
  );

  it('device nodes, fifos, xattrs, whiteouts and opaque dirs in overlay form', async () => {
    await unpack([
      { header: { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 } },
      { header: { name: 'fifo', type: 'fifo', mode: 0o600 } },
      {
        header: {
          name: 'x',
          type: 'file',
          mode: 0o644,
          size: 1,
          pax: { 'SCHILY.xattr.user.crid': 'yes', 'SCHILY.xattr.trusted.overlay.redirect': '/etc' },
        },
        body: 'x',
      },
      dir('gone-dir'),
      whiteout('gone-dir/file'),
      dir('o'),
      opaque('o'),
    ]);
    const null_ = await lstat(join(target, 'dev/null'));
    expect(null_.isCharacterDevice() && null_.rdev).toBe(0x103);
    expect((await lstat(join(target, 'fifo'))).isFIFO()).toBe(true);
    const wh = await lstat(join(target, 'gone-dir/file'));
    expect(wh.isCharacterDevice() && wh.rdev).toBe(0);
    const xattrs = (await execa('getfattr', ['-d', '-m', '-', join(target, 'x')])).stdout;
    expect(xattrs).toContain('user.crid="yes"');
    expect(xattrs).not.toContain('trusted.overlay');
    expect((await execa('getfattr', ['-n', 'trusted.overlay.opaque', '--only-values', join(target, 'o')])).stdout).toBe(
      'y',
    );
    expect(await readdir(join(target, 'o'))).toEqual([]);
  });

  it('follows a relative symlink that stays inside', async () => {
    await unpack([dir('usr/lib'), symlink('lib', 'usr/lib'), file('lib/x', 'x')]);
    expect(await readFile(join(target, 'usr/lib/x'), 'utf8')).toBe('x');
    expect((await lstat(join(target, 'lib'))).isSymbolicLink()).toBe(true);
  });

  it('replaces a symlink by a file without following it', async () => {
    await unpack([symlink('s', '../outside/secret'), file('s', 'mine')]);
    expect(await readFile(join(target, 's'), 'utf8')).toBe('mine');
    await expectNothingOutside();
  });
});

describe('unpackLayer refuses', () => {
  const cases: Array<[string, () => LayerEntry[], RegExp]> = [
    ['a ../ path', () => [file('../x', 'x')], /"\.\." component/],
    ['a nested ../ path', () => [dir('a'), file('a/../../x', 'x')], /"\.\." component/],
    ['an absolute path', () => [file(`${outside}/abs`, 'x')], /absolute path/],
    [
      'a file through an absolute symlink',
      () => [symlink('evil', outside), file('evil/pwned', 'x')],
      /absolute symlink/,
    ],
    [
      'a file through a relative symlink that climbs out',
      () => [symlink('up', '../outside'), file('up/pwned', 'x')],
      /leads outside/,
    ],
    [
      'a file through chained symlinks that climb out',
      () => [dir('a'), symlink('a/b', '..'), symlink('c', 'a/b/a/b/..'), file('c/pwned', 'x')],
      /leads outside/,
    ],
    ['a hard link to ../', () => [hardlink('h', '../outside/secret')], /"\.\." component/],
    ['a hard link to an absolute path', () => [hardlink('h', `${outside}/secret`)], /absolute path/],
    [
      'a hard link through a symlink to outside',
      () => [symlink('ln', outside), hardlink('h', 'ln/secret')],
      /absolute symlink/,
    ],
    [
      'a whiteout through a symlink to outside',
      () => [symlink('ln', '../outside'), whiteout('ln/secret')],
      /leads outside/,
    ],
  ];
  it.each(cases)('%s', async (_name, entries, message) => {
    await expect(unpack(entries())).rejects.toThrow(message);
    await expectNothingOutside();
  });

  it('a tar whose entries only look fine as strings', async () => {
    const raw = await tarOf([symlink('d', '/'), file('d/etc/crid-pwned', 'x')]);
    const blob = join(work, 'raw.tar');
    await writeFile(blob, raw);
    await expect(unpackLayer(blob, target, silentLogger)).rejects.toThrow(/absolute symlink/);
    await expect(stat('/etc/crid-pwned')).rejects.toThrow();
  });
});
