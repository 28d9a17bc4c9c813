import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ObjectStore } from './object-store.ts';

interface Rec {
  id: string;
  state: string;
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-store-'));
  dirs.push(dir);
  return dir;
}

describe('ObjectStore', () => {
  it('writes records without fsync as whole files a restart loads, and a later write of the record wins', async () => {
    const dir = tempDir();
    const store = new ObjectStore<Rec>('thing', dir);
    await store.put({ id: 'a', state: 'creating' }, { durable: false });
    await store.put({ id: 'b', state: 'creating' });
    await store.update('a', (r) => (r.state = 'shim'), { durable: false });
    await store.update('b', (r) => (r.state = 'ready'));
    expect(fs.readdirSync(dir).sort()).toEqual(['a.json', 'b.json']);
    const reloaded = new ObjectStore<Rec>('thing', dir);
    expect(await reloaded.load()).toEqual([]);
    expect(reloaded.list().sort((x, y) => x.id.localeCompare(y.id))).toEqual([
      { id: 'a', state: 'shim' },
      { id: 'b', state: 'ready' },
    ]);
  });
});
