import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CridError, notFound } from '../errors.ts';
import { silentLogger } from '../log.ts';
import { TtrpcClient } from './client.ts';
import { decodeMessage } from './codec.ts';
import { FrameDecoder } from './frame.ts';
import { TtrpcServer } from './server.ts';

let dir: string;
let sock: string;
let server: TtrpcServer;
const clients: TtrpcClient[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-ttrpc-'));
  sock = path.join(dir, 's.sock');
  server = new TtrpcServer(silentLogger);
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function dial(): Promise<TtrpcClient> {
  const c = await TtrpcClient.connect(sock);
  clients.push(c);
  return c;
}

describe('ttrpc client and server', () => {
  it('matches concurrent calls to their responses answered out of order', async () => {
    server.register('t.S', 'Echo', async (payload) => {
      const n = payload.readUInt8(0);
      await new Promise((r) => setTimeout(r, (20 - n) * 2));
      return Buffer.from(`reply-${n}`);
    });
    await server.listen(sock);
    const client = await dial();
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, n) => client.call('t.S', 'Echo', Buffer.from([n]), { timeoutMs: 5000 })),
    );
    expect(replies.map(String)).toEqual(Array.from({ length: 20 }, (_, n) => `reply-${n}`));
  });

  it('turns a status into a typed error and an Empty reply into zero bytes', async () => {
    server.register('t.S', 'Fail', async () => {
      throw notFound('container not created');
    });
    server.register('t.S', 'Nothing', async () => Buffer.alloc(0));
    await server.listen(sock);
    const client = await dial();
    await expect(client.call('t.S', 'Fail', Buffer.alloc(0))).rejects.toMatchObject({ kind: 'NotFound' });
    await expect(client.call('t.S', 'Nope', Buffer.alloc(0))).rejects.toThrow(/method Nope/);
    await expect(client.call('t.Other', 'X', Buffer.alloc(0))).rejects.toMatchObject({ kind: 'Unimplemented' });
    expect((await client.call('t.S', 'Nothing', Buffer.alloc(0))).length).toBe(0);
  });

  it('sends odd increasing stream ids, timeout_nano and lower-case metadata', async () => {
    const seen: Array<{ id: number; timeout: string; meta: unknown }> = [];
    const raw = net.createServer((socket) => {
      const decoder = new FrameDecoder();
      socket.on('data', (chunk) => {
        for (const f of decoder.push(chunk)) {
          if ('data' in f) {
            const req = decodeMessage<{ timeout_nano: string; metadata: unknown }>('ttrpc.Request', f.data);
            seen.push({ id: f.streamId, timeout: req.timeout_nano, meta: req.metadata });
          }
        }
      });
    });
    await new Promise<void>((r) => raw.listen(sock, r));
    try {
      const client = await dial();
      for (let i = 0; i < 3; i++) {
        void client
          .call('t.S', 'M', Buffer.alloc(0), { timeoutMs: 1500, metadata: { 'Containerd-Namespace-TTRPC': 'ns' } })
          .catch(() => {});
      }
      await expect.poll(() => seen.length).toBe(3);
      expect(seen.map((s) => s.id)).toEqual([1, 3, 5]);
      expect(seen[0]!.timeout).toBe('1500000000');
      expect(seen[0]!.meta).toEqual([{ key: 'containerd-namespace-ttrpc', value: 'ns' }]);
    } finally {
      for (const c of clients.splice(0)) c.close();
      await new Promise((r) => raw.close(r));
    }
  });

  it('fails a call that gets no reply within its timeout', async () => {
    server.register('t.S', 'Hang', () => new Promise(() => {}));
    await server.listen(sock);
    const client = await dial();
    await expect(client.call('t.S', 'Hang', Buffer.alloc(0), { timeoutMs: 50 })).rejects.toMatchObject({
      kind: 'DeadlineExceeded',
    });
  });

  it('fails every pending call and notifies when the connection closes', async () => {
    server.register('t.S', 'Hang', () => new Promise(() => {}));
    await server.listen(sock);
    const client = await dial();
    const closed = new Promise<Error>((resolve) => client.onClose(resolve));
    const calls = [1, 2, 3].map(() => client.call('t.S', 'Hang', Buffer.alloc(0)).catch((e: unknown) => e));
    await new Promise((r) => setTimeout(r, 20));
    await server.close();
    const errors = await Promise.all(calls);
    for (const err of errors) expect(err).toBeInstanceOf(CridError);
    expect(errors.map((e) => (e as CridError).kind)).toEqual(['Unavailable', 'Unavailable', 'Unavailable']);
    expect((await closed).message).toMatch(/closed/);
    await expect(client.call('t.S', 'Hang', Buffer.alloc(0))).rejects.toMatchObject({ kind: 'Unavailable' });
  });

  it('answers an oversize request with RESOURCE_EXHAUSTED on its stream', async () => {
    server.register('t.S', 'M', async () => Buffer.alloc(0));
    await server.listen(sock);
    const socket = net.createConnection(sock);
    const header = Buffer.alloc(10);
    header.writeUInt32BE((4 << 20) + 1, 0);
    header.writeUInt32BE(1, 4);
    header.writeUInt8(1, 8);
    const reply = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    socket.write(Buffer.concat([header, Buffer.alloc((4 << 20) + 1)]));
    const frame = new FrameDecoder().push(await reply)[0]!;
    socket.destroy();
    expect(
      'data' in frame && decodeMessage<{ status: { code: number } }>('ttrpc.Response', frame.data).status.code,
    ).toBe(8);
  });
});
