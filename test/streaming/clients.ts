// Test clients of the Kubernetes streaming protocols, written with the same libraries as the
// server (spdy-transport, ws), talking to a StreamingServer URL the way kubectl/crictl do.
import { request } from 'node:http';
import type { Socket } from 'node:net';
import transport, { type SpdyConnection, type SpdyStream } from 'spdy-transport';
import { WebSocket } from 'ws';

export interface SpdySession {
  connection: SpdyConnection;
  socket: Socket;
  protocol: string | undefined;
  /** Opens a stream and waits for its reply, as client-go's CreateStream does. */
  open(headers: Record<string, string>): Promise<SpdyStream>;
  close(): void;
}

/** POSTs an upgrade to SPDY/3.1 offering `protocols`; rejects with the status on refusal. */
export function dialSpdy(url: string, protocols: string[]): Promise<SpdySession> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocols },
    });
    req.on('response', (res) => {
      res.resume();
      reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { statusCode: res.statusCode }));
    });
    req.on('upgrade', (res, socket: Socket, head: Buffer) => {
      if (head.length > 0) socket.unshift(head);
      const connection = transport.connection.create(socket, { protocol: 'spdy', isServer: false });
      connection.start(3);
      connection.on('error', () => {});
      const protocol = res.headers['x-stream-protocol-version'];
      resolve({
        connection,
        socket,
        protocol: Array.isArray(protocol) ? protocol[0] : protocol,
        open: (headers) =>
          new Promise((resolveStream, rejectStream) => {
            const stream = connection.request({ method: 'POST', path: '/', headers });
            stream.once('response', () => resolveStream(stream));
            stream.once('error', rejectStream);
            stream.once('close', () =>
              rejectStream(new Error(`stream ${JSON.stringify(headers)} closed before its reply`)),
            );
          }),
        close: () => socket.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a remote command's streams in the order kubectl does: error, stdin, stdout, stderr, resize. */
export async function openCommandStreams(
  session: SpdySession,
  request: { stdin?: boolean; stderr?: boolean; tty?: boolean },
) {
  const error = await session.open({ streamtype: 'error' });
  const stdin = request.stdin ? await session.open({ streamtype: 'stdin' }) : undefined;
  const stdout = await session.open({ streamtype: 'stdout' });
  const stderr = request.stderr ? await session.open({ streamtype: 'stderr' }) : undefined;
  const resize = request.tty ? await session.open({ streamtype: 'resize' }) : undefined;
  return { session, error, stdin, stdout, stderr, resize };
}

/** Everything a readable yields until it ends (spdy streams end on FIN, whatever our side does). */
export function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const done = () => resolve(Buffer.concat(chunks).toString('utf8'));
    stream.on('data', (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
    stream.once('end', done);
    stream.once('close', done);
    stream.once('error', reject);
  });
}

export interface ChannelMessage {
  channel: number;
  data: Buffer;
}

export interface WsSession {
  ws: WebSocket;
  protocol: string;
  messages: ChannelMessage[];
  /** Resolves when the server closed the socket. */
  closed: Promise<number>;
  send(channel: number, data: Buffer | string): void;
  /** Concatenated payloads received on `channel`. */
  text(channel: number): string;
}

/** `ca`: the PEM certificate to trust for an https URL. */
export function dialWebSocket(url: string, protocols: string[], ca?: string): Promise<WsSession> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), protocols, ca ? { ca } : {});
    const messages: ChannelMessage[] = [];
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.on('message', (data: Buffer) => messages.push({ channel: data[0]!, data: data.subarray(1) }));
    ws.once('unexpected-response', (_req, res) =>
      reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { statusCode: res.statusCode })),
    );
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        ws,
        protocol: ws.protocol,
        messages,
        closed,
        send: (channel, data) => ws.send(Buffer.concat([Buffer.of(channel), Buffer.from(data)])),
        text: (channel) =>
          Buffer.concat(messages.filter((m) => m.channel === channel).map((m) => m.data)).toString('utf8'),
      }),
    );
  });
}
