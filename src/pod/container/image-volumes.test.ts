import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveInRoot, uncoveredVolumes } from './image-volumes.ts';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-volumes-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('resolveInRoot', () => {
  it('follows symlinks as the container sees them and never leaves the root', async () => {
    fs.mkdirSync(path.join(root, 'real/data'), { recursive: true });
    fs.symlinkSync('/real', path.join(root, 'abs'));
    fs.symlinkSync('../../../../real', path.join(root, 'climb'));
    fs.symlinkSync('/etc', path.join(root, 'host-etc'));
    expect(await resolveInRoot(root, '/abs/data')).toBe(path.join(root, 'real/data'));
    expect(await resolveInRoot(root, '/climb/data')).toBe(path.join(root, 'real/data'));
    expect(await resolveInRoot(root, '/../../real')).toBe(path.join(root, 'real'));
    // /etc of the host is not the image's /etc, which does not exist here.
    expect(await resolveInRoot(root, '/host-etc')).toBeUndefined();
    expect(await resolveInRoot(root, '/missing/dir')).toBeUndefined();
  });

  it('gives up on a symlink loop', async () => {
    fs.symlinkSync('/loop', path.join(root, 'loop'));
    expect(await resolveInRoot(root, '/loop')).toBeUndefined();
  });
});

describe('uncoveredVolumes', () => {
  it('normalizes paths and leaves out those the container mounts itself', () => {
    const mounts = [{ container_path: '/data/' }];
    expect(uncoveredVolumes(['/data', 'cache', '/var//log/', '/', '/cache'], mounts)).toEqual(['/cache', '/var/log']);
  });
});
