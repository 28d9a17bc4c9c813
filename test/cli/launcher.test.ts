// scripts/crid, the checkout's launcher: crid's own Node, the V8 flags, and a compile cache that
// keeps V8's code for crid's modules between starts.
import { expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { CRID, REPO } from '../helpers/crid-process.ts';

it('runs crid with a compile cache under build/ unless NODE_COMPILE_CACHE names another', async () => {
  const own = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-compile-cache-'));
  try {
    const env = { ...process.env };
    delete env.NODE_COMPILE_CACHE;
    await execa(CRID, ['version'], { env, extendEnv: false });
    expect(fs.readdirSync(path.join(REPO, 'build/compile-cache'), { recursive: true }).length).toBeGreaterThan(0);

    await execa(CRID, ['version'], { env: { ...env, NODE_COMPILE_CACHE: own }, extendEnv: false });
    expect(fs.readdirSync(own, { recursive: true }).length).toBeGreaterThan(0);
  } finally {
    fs.rmSync(own, { recursive: true, force: true });
  }
});
