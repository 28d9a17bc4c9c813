// Port-forward over WebSocket: one connection per requested port, channel 2i carrying its data
// both ways and channel 2i+1 its errors; each channel first tells the port (uint16, little end).
import { Duplex } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { WebSocket } from 'ws';
import type { Logger } from '../log.ts';
import { forwardPort } from './port-forward.ts';
import type { ChannelProtocol } from './protocols.ts';
import type { StreamingRuntime } from './runtime.ts';
import { ChannelSocket } from './ws-channels.ts';

function portBytes(port: number): Buffer {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16LE(port);
  return bytes;
}

async function forwardChannelPair(
  channels: ChannelSocket,
  index: number,
  port: number,
  podSandboxId: string,
  runtime: StreamingRuntime,
  logger: Logger,
): Promise<void> {
  const dataChannel = index * 2;
  const errorChannel = dataChannel + 1;
  await channels.send(dataChannel, portBytes(port));
  await channels.send(errorChannel, portBytes(port));
  const stream = Duplex.from({ readable: channels.reader(dataChannel), writable: channels.writer(dataChannel) });
  stream.on('error', (err) => logger.debug({ err, port }, 'port-forward channel error'));
  const end = await forwardPort(runtime, podSandboxId, port, stream, channels.gone, logger);
  // What the client still sends is dropped: unread, it would stall the socket and every channel on it.
  stream.resume();
  if (!stream.writableEnded) stream.end();
  await finished(stream, { readable: false }).catch(() => {});
  if (end.kind === 'error') await channels.send(errorChannel, end.message);
}

export async function servePortForwardOverWebSocket(
  ws: WebSocket,
  protocol: ChannelProtocol,
  podSandboxId: string,
  ports: readonly number[],
  runtime: StreamingRuntime,
  logger: Logger,
): Promise<void> {
  const dataChannels = ports.map((_, i) => i * 2);
  const channels = new ChannelSocket(ws, protocol, dataChannels, logger);
  await Promise.all(ports.map((port, i) => forwardChannelPair(channels, i, port, podSandboxId, runtime, logger)));
  channels.close();
}
