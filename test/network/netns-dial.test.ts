// Port-forward's building block: a TCP connection to loopback inside a pod's netns (root).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialInNetns, type NetnsConnection } from '../../src/network/netns-dial.ts';
import { createNetns, removeNetns } from '../../src/network/netns.ts';

let netnsPath: string;
let www: string;
let server: ChildProcess;

beforeAll(async () => {
  netnsPath = await createNetns();
  www = await mkdtemp(join(tmpdir(), 'crid-dial-'));
  await writeFile(join(www, 'index.html'), 'inside the pod\n');
  // Loopback only: reachable from inside the netns and from nowhere else.
  server = spawn(
    'ip',
    ['netns', 'exec', basename(netnsPath), '/bin/busybox', 'httpd', '-f', '-p', '127.0.0.1:8081', '-h', www],
    {
      stdio: 'ignore',
    },
  );
});

afterAll(async () => {
  server?.kill('SIGKILL');
  if (netnsPath) await removeNetns(netnsPath);
  await rm(www, { recursive: true, force: true });
});

async function exchange(conn: NetnsConnection, request: string): Promise<string> {
  const chunks: Buffer[] = [];
  conn.output.on('data', (c: Buffer) => chunks.push(c));
  conn.input.end(request);
  await conn.done;
  return Buffer.concat(chunks).toString('utf8');
}

/** The server may still be starting: retry a refused connection a bounded number of times. */
async function get(): Promise<string> {
  let last: unknown;
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      return await exchange(dialInNetns(netnsPath, 8081), 'GET /index.html HTTP/1.0\r\n\r\n');
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw last;
}

describe('dialInNetns', () => {
  it('reaches a server listening on loopback inside the netns', async () => {
    const response = await get();
    expect(response).toMatch(/^HTTP\/1\.[01] 200 OK/);
    expect(response.endsWith('inside the pod\n')).toBe(true);
  });

  it('leaves crid in its own network namespace, dialing or failing', async () => {
    const own = fs.readlinkSync('/proc/thread-self/ns/net');
    await get();
    expect(fs.readlinkSync('/proc/thread-self/ns/net')).toBe(own);
    expect(fs.readlinkSync(`/proc/thread-self/ns/net`)).not.toBe(fs.readlinkSync(`/proc/${server.pid}/ns/net`));
    expect(() => dialInNetns(www, 8081)).toThrow(/^cannot enter network namespace .*: EINVAL: setns/);
    expect(fs.readlinkSync('/proc/thread-self/ns/net')).toBe(own);
  });

  it('ends at once when closed from crid, with no error', async () => {
    await get();
    const conn = dialInNetns(netnsPath, 8081);
    conn.close();
    await expect(conn.done).resolves.toBeUndefined();
  });

  it('a port nobody listens on fails with a clear error', async () => {
    await get();
    const err = await exchange(dialInNetns(netnsPath, 8082), '').catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /^connection to 127\.0\.0\.1:8082 in \/run\/netns\/crid-.* failed: .*refused/i,
    );
  });
});
