// What an exception nothing catches does to crid: it is logged as a crid bug and crid serves on.
// The exception is thrown inside a real crid by a module preloaded through NODE_OPTIONS, on SIGUSR2.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { criClient, type CriClient } from '../helpers/cri-client.ts';
import { startCrid, waitForSocket, writeMinimalConfig, type CridProcess } from '../helpers/crid-process.ts';

let dir: string;
let crid: CridProcess;
let client: CriClient;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-uncaught-'));
  const configFile = writeMinimalConfig(dir);
  const thrower = path.join(dir, 'throw-on-sigusr2.mjs');
  fs.writeFileSync(
    thrower,
    `process.on('SIGUSR2', () => setImmediate(() => { throw new Error('thrown where nothing catches it'); }));\n`,
  );
  const saved = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = `--import=${thrower}`;
  try {
    crid = startCrid(configFile, path.join(dir, 'crid.sock'));
  } finally {
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  }
  await waitForSocket(crid);
  client = criClient(crid.socket);
});

afterAll(async () => {
  client?.close();
  await crid?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('is logged as a crid bug, and crid keeps serving', async () => {
  crid.child.kill('SIGUSR2');
  await vi.waitFor(() => expect(crid.stderr()).toContain('uncaught exception (a crid bug)'), { timeout: 10_000 });
  const record = JSON.parse(
    crid
      .stderr()
      .split('\n')
      .find((line) => line.includes('uncaught exception'))!,
  );
  expect(record).toMatchObject({ level: 50, err: { message: 'thrown where nothing catches it' } });
  expect((await client.runtime.Version({})).runtime_name).toBe('crid');
  expect(crid.child.exitCode).toBeNull();
});
