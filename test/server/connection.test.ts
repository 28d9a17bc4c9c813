// A CRI client's HTTP/2 connection carries all its calls (kubelet multiplexes everything on one):
// a call or a client that misbehaves fails alone, and crid keeps serving everyone else.
import { afterAll, beforeAll, expect, it } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { clientMethod, criClient, criPackage, type CriClient } from '../helpers/cri-client.ts';
import { startCrid, waitForSocket, writeMinimalConfig, type CridProcess } from '../helpers/crid-process.ts';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

let dir: string;
let crid: CridProcess;
let client: CriClient;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-conn-'));
  const configFile = writeMinimalConfig(dir);
  crid = startCrid(configFile, path.join(dir, 'crid.sock'));
  await waitForSocket(crid);
  client = criClient(crid.socket);
});

afterAll(async () => {
  client?.close();
  await crid?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function expectCridServes(): Promise<void> {
  expect(crid.child.exitCode).toBeNull();
  expect((await client.runtime.Version({})).runtime_name).toBe('crid');
}

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/** A HEADERS frame whose block is not HPACK: an index integer that runs past any table. */
const NOT_HPACK = frame(0x1, 0x4, 1, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xbe, 0xbf]));

/** Writes raw HTTP/2 to crid's socket; resolves once crid closed the connection. */
function rawConnection(frames: Buffer[]): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(crid.socket);
    socket.on('error', () => {});
    socket.on('data', () => {});
    socket.on('close', () => resolve());
    socket.write(Buffer.concat([PREFACE, frame(0x4, 0, 0, Buffer.alloc(0)), ...frames]));
  });
}

it('a call with 1 MiB of metadata fails alone; the 16 calls beside it on the connection succeed', async () => {
  const pkg = criPackage();
  const address = `unix://${crid.socket}`;
  const credentials = grpc.credentials.createInsecure();
  const channel = new grpc.Channel(address, credentials, {});
  const runtime = new pkg.runtime.v1.RuntimeService(address, credentials, { channelOverride: channel });
  const image = new pkg.runtime.v1.ImageService(address, credentials, { channelOverride: channel });
  const call = (service: grpc.Client, rpc: string, metadata = new grpc.Metadata()) =>
    new Promise<number>((resolve) =>
      clientMethod(service, rpc)!.call(
        service,
        {},
        metadata,
        { deadline: Date.now() + 20_000 },
        (err: grpc.ServiceError | null) => resolve(err ? err.code : grpc.status.OK),
      ),
    );
  await call(runtime, 'Version');
  const big = new grpc.Metadata();
  big.set('x-big', 'x'.repeat(1 << 20));
  const codes = await Promise.all([
    ...Array.from({ length: 8 }, () => call(runtime, 'ListPodSandbox')),
    ...Array.from({ length: 8 }, () => call(image, 'ImageFsInfo')),
    call(runtime, 'ListPodSandbox', big),
  ]);
  expect(codes).toEqual([...Array(16).fill(grpc.status.OK), grpc.status.RESOURCE_EXHAUSTED]);
  // the connection is still the same working one
  expect(await call(image, 'ImageFsInfo')).toBe(grpc.status.OK);
  channel.close();
  await expectCridServes();
});

it('a 12 MiB request crosses the connection whole, beside small calls on it', async () => {
  // Its frames reach crid in pieces that split them anywhere; a byte lost or doubled on the way to
  // crid's HTTP/2 fails the call (the message no longer decodes) or the connection.
  const image = 'x'.repeat(12 << 20);
  const [status, version] = await Promise.all([
    client.image.ImageStatus({ image: { image } }),
    client.runtime.Version({}),
  ]);
  expect(status.image).toBeNull();
  expect(version.runtime_name).toBe('crid');
  await expectCridServes();
});

it('a header block that is not HPACK ends its connection only', async () => {
  await rawConnection([NOT_HPACK]);
  await expectCridServes();
});

it('a header block that never ends ends its connection instead of filling crid memory', async () => {
  const piece = Buffer.alloc(16_384, 0x40);
  const continuations = Array.from({ length: 300 }, () => frame(0x9, 0, 1, piece));
  await rawConnection([frame(0x1, 0, 1, piece), ...continuations]);
  await expectCridServes();
});

it('connections that end, whoever ends them, leave no descriptor of theirs open in crid', async () => {
  const descriptors = () => fs.readdirSync(`/proc/${crid.child.pid}/fd`).length;
  const before = descriptors();
  for (let i = 0; i < 10; i++) {
    const other = criClient(crid.socket);
    expect((await other.runtime.Version({})).runtime_name).toBe('crid');
    other.close();
    await rawConnection([NOT_HPACK]);
    const vanishing = net.connect(crid.socket);
    vanishing.on('error', () => {});
    vanishing.write(PREFACE.subarray(0, 10), () => vanishing.destroy());
  }
  for (let i = 0; i < 100 && descriptors() > before; i++) await new Promise((r) => setTimeout(r, 50));
  expect(descriptors()).toBe(before);
  await expectCridServes();
});
