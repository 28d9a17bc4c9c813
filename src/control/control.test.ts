import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { silentLogger } from '../log.ts';
import { invalidArgument, isKind } from '../errors.ts';
import type { CheckResult } from '../handler-health/self-check.ts';
import { controlSocketPath, startControlServer, type ControlOperations, type ControlServer } from './control-server.ts';
import { ControlClient } from './control-client.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'crid-control-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let server: ControlServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const ok = (handler: string): CheckResult => ({
  handler,
  ok: true,
  reason: '',
  checkedAt: '2025-01-01T00:00:00.000Z',
  durationMs: 3,
});
const calls: string[] = [];
const handlers: ControlOperations = {
  reload: async () => ({
    ok: true,
    diff: { added: ['kata'], removed: [], changed: [], settings: [], restartNeeded: [] },
    warnings: [],
  }),
  check: async (handler, deep) => {
    calls.push(`check ${handler} ${deep}`);
    if (handler === 'nope') throw invalidArgument('unknown handler "nope" (configured handlers: runc)');
    return [ok(handler ?? 'runc')];
  },
  health: () => [ok('runc'), ok('crun')],
  measure: async (handler, pods) => {
    calls.push(`measure ${handler} ${pods}`);
    return [{ handler: handler ?? 'runc', ok: true, reason: '', samples: [] }];
  },
  // Counts the archive's bytes; one starting with "bad" is refused at its first chunk.
  importImages: async (archive) => {
    let bytes = 0;
    try {
      for await (const chunk of archive) {
        if (bytes === 0 && (chunk as Buffer).subarray(0, 3).toString() === 'bad')
          throw invalidArgument('not an image archive');
        bytes += (chunk as Buffer).length;
      }
    } catch (err) {
      calls.push(`import failed: ${(err as Error).message}`);
      throw err;
    }
    return [{ id: `sha256:${'a'.repeat(64)}`, repoTags: [`bytes:${bytes}`] }];
  },
};

describe('control socket', () => {
  it('serves reload, check, health and measure as JSON on a 0600 unix socket', async () => {
    const socket = controlSocketPath(tmp);
    server = await startControlServer(socket, handlers, silentLogger);
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    const client = new ControlClient(socket);
    expect(await client.reload()).toMatchObject({ ok: true, diff: { added: ['kata'] } });
    expect(await client.check('runc', true)).toEqual([ok('runc')]);
    expect(await client.check(undefined, false)).toEqual([ok('runc')]);
    expect((await client.health()).map((r) => r.handler)).toEqual(['runc', 'crun']);
    expect(await client.measure('crun', 3)).toEqual([{ handler: 'crun', ok: true, reason: '', samples: [] }]);
    expect(calls).toEqual(['check runc true', 'check undefined false', 'measure crun 3']);
  });

  it('errors come back typed with their message; bad pod counts and unknown routes are refused', async () => {
    const socket = path.join(tmp, 'errors.sock');
    server = await startControlServer(socket, handlers, silentLogger);
    const client = new ControlClient(socket);
    const err = await client.check('nope', false).catch((e: unknown) => e);
    expect(isKind(err, 'InvalidArgument')).toBe(true);
    expect((err as Error).message).toBe('unknown handler "nope" (configured handlers: runc)');
    await expect(client.measure('runc', 0)).rejects.toThrow('pods must be an integer from 1 to 50, got "0"');
    const res = await new Promise<number>((resolve) => {
      http.request({ socketPath: socket, method: 'DELETE', path: '/reload' }, (r) => resolve(r.statusCode ?? 0)).end();
    });
    expect(res).toBe(404);
  });

  it('streams an archive to the import route; a refused one answers with the reason before the body ends', async () => {
    const socket = path.join(tmp, 'import.sock');
    server = await startControlServer(socket, handlers, silentLogger);
    const client = new ControlClient(socket);
    const archive = Buffer.alloc(8 << 20, 1);
    expect(await client.importImages(Readable.from([archive.subarray(0, 1 << 20), archive.subarray(1 << 20)]))).toEqual(
      [{ id: `sha256:${'a'.repeat(64)}`, repoTags: [`bytes:${8 << 20}`] }],
    );
    const refused = Buffer.concat([Buffer.from('bad'), archive]);
    const err = await client
      .importImages(Readable.from([refused.subarray(0, 1 << 16), refused.subarray(1 << 16)]))
      .catch((e: unknown) => e);
    expect(isKind(err, 'InvalidArgument')).toBe(true);
    expect((err as Error).message).toBe('not an image archive');
  });

  it('an upload the client abandons half-way fails the import instead of leaving it waiting', async () => {
    const socket = path.join(tmp, 'abandon.sock');
    server = await startControlServer(socket, handlers, silentLogger);
    const before = calls.length;
    const req = http.request({ socketPath: socket, method: 'POST', path: '/images/import' });
    req.on('error', () => undefined);
    req.write(Buffer.alloc(1 << 20, 1), () => req.destroy());
    while (calls.length === before) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls.slice(before)).toEqual(['import failed: the client closed the connection before the archive ended']);
  });

  it('a stale socket file is replaced; no daemon is Unavailable naming the socket', async () => {
    const socket = path.join(tmp, 'stale.sock');
    server = await startControlServer(socket, handlers, silentLogger);
    await server.close();
    server = await startControlServer(socket, handlers, silentLogger);
    expect((await new ControlClient(socket).health()).length).toBe(2);
    const missing = path.join(tmp, 'missing.sock');
    const err = await new ControlClient(missing).reload().catch((e: unknown) => e);
    expect(isKind(err, 'Unavailable')).toBe(true);
    expect((err as Error).message).toMatch(new RegExp(`^cannot reach the running crid at ${missing}: .*ENOENT`));
  });
});
