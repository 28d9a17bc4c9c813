// A crid killed between making a task's bundle and writing its shim record must still start: the
// next crid's reconnect removes such a bundle and reports the task exited, instead of failing recovery.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createBundle } from '../../src/runtime/bundle.ts';
import { ShimHarness } from './harness.ts';

let h: ShimHarness;

beforeEach(async () => {
  h = new ShimHarness();
  await h.start();
});

afterEach(async () => {
  await h.cleanup();
});

for (const [kind, record] of [
  ['no shim record', undefined],
  ['a shim record cut short', '{"kind":"v2","bin'],
] as const) {
  it(`a bundle with ${kind} is removed and its task reported exited`, async () => {
    const bundle = h.manager.bundleFor('half-made');
    createBundle(bundle, { ociVersion: '1.0.2', process: { args: ['/bin/true'] }, root: { path: 'rootfs' } });
    if (record !== undefined) fs.writeFileSync(path.join(bundle, 'crid-shim.json'), record);
    const exited = h.monitor.waitForExit('half-made');

    expect(await h.manager.reconnect('half-made')).toBeUndefined();
    expect((await exited).exitStatus).toBe(255);
    expect(fs.existsSync(bundle)).toBe(false);
    expect(await h.manager.listBundles()).toEqual([]);
  });
}
