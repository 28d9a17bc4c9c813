// A SPDY/3 client that behaves like Go's spdystream (kubectl, crictl): its SYN_STREAMs carry only
// the application's headers, and it never sends WINDOW_UPDATE. Only what the tests need:
// open streams, and collect the DATA each stream receives until FIN.
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { constants, createDeflate, type Deflate } from 'node:zlib';
import transport from 'spdy-transport';

const dictionary = (transport as unknown as { protocol: { spdy: { dictionary: Record<number, Buffer> } } }).protocol
  .spdy.dictionary[3]!;

function headerBlock(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  parts.push(u32(Object.keys(headers).length));
  for (const [name, value] of Object.entries(headers)) {
    parts.push(u32(Buffer.byteLength(name)), Buffer.from(name), u32(Buffer.byteLength(value)), Buffer.from(value));
  }
  return Buffer.concat(parts);
}

function compress(deflate: Deflate, data: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => chunks.push(chunk);
    deflate.on('data', onData);
    deflate.write(data);
    deflate.flush(constants.Z_SYNC_FLUSH, () => {
      deflate.off('data', onData);
      resolve(Buffer.concat(chunks));
    });
  });
}

export interface SpdystreamClient {
  /** Opens stream `id` (odd, increasing) with exactly these headers. */
  open(id: number, headers: Record<string, string>): Promise<void>;
  /** Resolves with all DATA stream `id` received, once it got FIN. */
  received(id: number): Promise<Buffer>;
  socket: Socket;
}

export function dialSpdystream(url: string, protocol: string): Promise<SpdystreamClient> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocol },
    });
    req.on('response', (res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    req.on('upgrade', (_res, socket: Socket, head: Buffer) => {
      const deflate = createDeflate({ dictionary });
      const data = new Map<number, Buffer[]>();
      const waiters = new Map<number, (b: Buffer) => void>();
      const finished = new Map<number, Buffer>();
      let pending = head;
      const onBytes = (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 8) {
          const length = pending.readUIntBE(5, 3);
          if (pending.length < 8 + length) break;
          const frame = pending.subarray(0, 8 + length);
          pending = pending.subarray(8 + length);
          if ((frame[0]! & 0x80) !== 0) continue; // control frames: replies, SETTINGS, WINDOW_UPDATE
          const id = frame.readUInt32BE(0) & 0x7fffffff;
          const list = data.get(id) ?? [];
          list.push(frame.subarray(8));
          data.set(id, list);
          if ((frame[4]! & 0x01) !== 0) {
            const all = Buffer.concat(list);
            finished.set(id, all);
            waiters.get(id)?.(all);
          }
        }
      };
      socket.on('error', () => {});
      socket.on('data', onBytes);
      onBytes(Buffer.alloc(0));
      resolve({
        socket,
        open: async (id, headers) => {
          const block = await compress(deflate, headerBlock(headers));
          const frame = Buffer.alloc(18);
          frame.writeUInt16BE(0x8003, 0);
          frame.writeUInt16BE(1, 2);
          frame.writeUIntBE(10 + block.length, 5, 3);
          frame.writeUInt32BE(id, 8);
          socket.write(Buffer.concat([frame, block]));
        },
        received: (id) => new Promise((r) => (finished.has(id) ? r(finished.get(id)!) : waiters.set(id, r))),
      });
    });
    req.on('error', reject);
    req.end();
  });
}
