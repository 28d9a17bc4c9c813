// crid's streaming server: serves the one-time URLs that Exec, Attach and PortForward return,
// speaking SPDY/3.1 or WebSocket as the client asks (kubelet's cri/streaming server, which
// containerd embeds, does the same).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { http, https } from '../util/http-modules.ts';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { invalidArgument } from '../errors.ts';
import type { AttachRequest__Output } from '../generated/runtime/v1/AttachRequest.ts';
import type { ExecRequest__Output } from '../generated/runtime/v1/ExecRequest.ts';
import type { PortForwardRequest__Output } from '../generated/runtime/v1/PortForwardRequest.ts';
import { silentLogger, type Logger } from '../log.ts';
import { parsePort } from './port-forward.ts';
import {
  DEFAULT_CHANNEL_PROTOCOL,
  headerProtocols,
  negotiate,
  PORT_FORWARD_SPDY_PROTOCOLS,
  PORT_FORWARD_WS_PROTOCOLS,
  REMOTE_COMMAND_SPDY_PROTOCOLS,
  REMOTE_COMMAND_WS_PROTOCOLS,
  type ChannelProtocol,
} from './protocols.ts';
import { rejectUpgrade } from './raw-response.ts';
import type { RemoteCommand } from './remote-command.ts';
import { RequestCache } from './request-cache.ts';
import type { StreamingRuntime } from './runtime.ts';

export interface StreamingServerOptions {
  /** Listen address (containerd's stream_server_address); default 127.0.0.1. */
  address?: string;
  /** Listen port (stream_server_port); default 0, a free port. */
  port?: number;
  /** Base of the returned URLs when the listen address is not what clients should dial. */
  baseUrl?: string;
  /** PEM certificate and key: serve HTTPS (enable_tls_streaming). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Idle time after which a streaming connection is closed (stream_idle_timeout); default 4h. */
  streamIdleTimeoutMs?: number;
  /** How long a SPDY client has to open its streams; default 30s. */
  streamCreationTimeoutMs?: number;
  /** How long a URL stays valid; default 1 minute. */
  tokenTtlMs?: number;
  /** Most URLs outstanding at once; default 1000. */
  maxInFlight?: number;
  /** How long a finished SPDY session waits for the client to hang up; default 10s. */
  closeGraceMs?: number;
  now?: () => number;
  logger?: Logger;
}

type PendingRequest = RemoteCommand | { kind: 'portforward'; request: PortForwardRequest__Output };

const HOUR_MS = 60 * 60 * 1000;

function validateStdio(request: {
  container_id: string;
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}): void {
  if (request.container_id === '') throw invalidArgument('missing required container_id');
  if (request.tty && request.stderr) throw invalidArgument('tty and stderr cannot both be true');
  if (!request.stdin && !request.stdout && !request.stderr)
    throw invalidArgument('one of stdin, stdout, or stderr must be set');
}

function isWebSocket(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

function isSpdy(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase().includes('spdy/3.1');
}

/** `/exec/<token>` → ['exec', token]. */
function route(req: IncomingMessage): { kind: string; token: string; query: URLSearchParams } | undefined {
  const url = new URL(req.url ?? '/', 'http://streaming');
  const match = /^\/(exec|attach|portforward)\/([A-Za-z0-9_-]+)$/.exec(url.pathname);
  return match ? { kind: match[1]!, token: match[2]!, query: url.searchParams } : undefined;
}

function chooseChannelProtocol(
  req: IncomingMessage,
  supported: readonly ChannelProtocol[],
): ChannelProtocol | undefined {
  const requested = headerProtocols(req.headers['sec-websocket-protocol']);
  if (requested.length === 0) return DEFAULT_CHANNEL_PROTOCOL;
  const name = negotiate(
    requested,
    supported.map((p) => p.name),
  );
  return supported.find((p) => p.name === name);
}

/**
 * The SPDY and WebSocket code (spdy-transport, ws) loads on the first upgrade: a node streams
 * rarely, and the daemon does not carry that code's memory until it does.
 */
async function loadSpdy() {
  const [connection, remoteCommand, portForward] = await Promise.all([
    import('./spdy-connection.ts'),
    import('./spdy-remote-command.ts'),
    import('./port-forward-spdy.ts'),
  ]);
  return { ...connection, ...remoteCommand, ...portForward };
}

async function loadWebSocket() {
  const [ws, remoteCommand, portForward] = await Promise.all([
    import('ws'),
    import('./ws-remote-command.ts'),
    import('./port-forward-ws.ts'),
  ]);
  return { WebSocketServer: ws.WebSocketServer, ...remoteCommand, ...portForward };
}

export class StreamingServer {
  readonly #runtime: StreamingRuntime;
  readonly #options: Required<Omit<StreamingServerOptions, 'baseUrl' | 'tls'>> &
    Pick<StreamingServerOptions, 'baseUrl' | 'tls'>;
  readonly #cache: RequestCache<PendingRequest>;
  readonly #server: Server;
  #wss: WebSocketServer | undefined;
  readonly #sockets = new Set<Duplex>();
  readonly #stopping = new AbortController();
  #baseUrl = '';

  constructor(runtime: StreamingRuntime, options: StreamingServerOptions = {}) {
    this.#runtime = runtime;
    this.#options = {
      address: '127.0.0.1',
      port: 0,
      streamIdleTimeoutMs: 4 * HOUR_MS,
      streamCreationTimeoutMs: 30_000,
      tokenTtlMs: 60_000,
      maxInFlight: 1000,
      closeGraceMs: 10_000,
      now: Date.now,
      logger: silentLogger,
      ...options,
    };
    this.#cache = new RequestCache({
      ttlMs: this.#options.tokenTtlMs,
      maxInFlight: this.#options.maxInFlight,
      now: this.#options.now,
    });
    const onRequest = (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res);
    this.#server = options.tls
      ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, onRequest)
      : http.createServer(onRequest);
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#onUpgrade(req, socket, head),
    );
  }

  async start(): Promise<void> {
    const { address, port } = this.#options;
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, address, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#server.on('error', (err) => this.#options.logger.warn({ err }, 'streaming server error'));
    this.#baseUrl = this.#options.baseUrl?.replace(/\/+$/, '') ?? this.#listenUrl();
    this.#options.logger.info({ url: this.#baseUrl }, 'streaming server listening');
  }

  /** Ends every session (their runtimes see an aborted signal) and stops listening. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    this.#cache.clear();
    for (const socket of this.#sockets) socket.destroy();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  /** Where the server listens (after start). */
  get address(): AddressInfo {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('streaming server is not listening');
    return address;
  }

  /** The base every URL starts with, e.g. http://127.0.0.1:40123 (after start). */
  get baseUrl(): string {
    return this.#baseUrl;
  }

  /** Number of live streaming connections. */
  get connectionCount(): number {
    return this.#sockets.size;
  }

  getExec(request: ExecRequest__Output): { url: string } {
    validateStdio(request);
    return { url: this.#url('exec', this.#cache.insert({ kind: 'exec', request })) };
  }

  getAttach(request: AttachRequest__Output): { url: string } {
    validateStdio(request);
    return { url: this.#url('attach', this.#cache.insert({ kind: 'attach', request })) };
  }

  getPortForward(request: PortForwardRequest__Output): { url: string } {
    if (request.pod_sandbox_id === '') throw invalidArgument('missing required pod_sandbox_id');
    return { url: this.#url('portforward', this.#cache.insert({ kind: 'portforward', request })) };
  }

  #listenUrl(): string {
    const { address, port } = this.address;
    const host = address.includes(':') ? `[${address}]` : address;
    return `${this.#options.tls ? 'https' : 'http'}://${host}:${port}`;
  }

  #url(kind: string, token: string): string {
    if (this.#baseUrl === '') throw new Error('streaming server is not started');
    return `${this.#baseUrl}/${kind}/${token}`;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const target = route(req);
    const pending = target && this.#cache.peek(target.token);
    if (pending === undefined || pending.kind !== target?.kind) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
      return;
    }
    res
      .writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' })
      .end('unable to upgrade: missing upgrade headers in request\n');
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (err) => this.#options.logger.debug({ err }, 'streaming socket error'));
    const target = route(req);
    const pending = target && this.#cache.consume(target.token);
    if (pending === undefined || pending.kind !== target?.kind) {
      rejectUpgrade(socket, 404, '404 page not found');
      return;
    }
    this.#track(socket);
    const served = isWebSocket(req)
      ? this.#serveWebSocket(req, socket, head, pending, target.query)
      : isSpdy(req)
        ? this.#serveSpdy(req, socket, head, pending)
        : undefined;
    if (served) {
      served.catch((err: unknown) => {
        this.#options.logger.error({ err }, 'streaming upgrade failed');
        socket.destroy();
      });
    } else rejectUpgrade(socket, 400, `unable to upgrade: unsupported Upgrade ${JSON.stringify(req.headers.upgrade)}`);
  }

  #track(socket: Duplex): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    const { streamIdleTimeoutMs } = this.#options;
    if ('setTimeout' in socket && typeof socket.setTimeout === 'function' && streamIdleTimeoutMs > 0) {
      socket.setTimeout(streamIdleTimeoutMs, () => socket.destroy());
    }
  }

  /** Aborted when the client hangs up or the server stops. */
  #goneSignal(socket: Duplex): AbortSignal {
    const gone = new AbortController();
    const abort = () => gone.abort();
    socket.once('close', abort);
    this.#stopping.signal.addEventListener('abort', abort, { once: true });
    gone.signal.addEventListener('abort', () => this.#stopping.signal.removeEventListener('abort', abort), {
      once: true,
    });
    return gone.signal;
  }

  async #serveSpdy(req: IncomingMessage, socket: Duplex, head: Buffer, pending: PendingRequest): Promise<void> {
    const { upgradeToSpdy, PROTOCOL_VERSION_HEADER, servePortForwardOverSpdy, serveRemoteCommandOverSpdy } =
      await loadSpdy();
    const supported = pending.kind === 'portforward' ? PORT_FORWARD_SPDY_PROTOCOLS : REMOTE_COMMAND_SPDY_PROTOCOLS;
    const upgraded = upgradeToSpdy(socket, head, req.headers[PROTOCOL_VERSION_HEADER.toLowerCase()], supported);
    if (upgraded === undefined) return;
    const { connection, protocol } = upgraded;
    const { logger, streamCreationTimeoutMs, closeGraceMs } = this.#options;
    connection.on('error', (err: Error) => {
      logger.debug({ err }, 'spdy connection error');
      socket.destroy();
    });
    const gone = this.#goneSignal(socket);
    if (pending.kind === 'portforward') {
      const podId = pending.request.pod_sandbox_id;
      servePortForwardOverSpdy(connection, podId, this.#runtime, {
        streamCreationTimeoutMs,
        gone,
        logger: logger.child({ podId }),
      });
      return;
    }
    const session = {
      streamCreationTimeoutMs,
      closeGraceMs,
      gone,
      logger: logger.child({ containerId: pending.request.container_id }),
    };
    serveRemoteCommandOverSpdy(connection, socket, protocol, pending, this.#runtime, session).catch((err: unknown) => {
      logger.error({ err }, 'spdy session failed');
      socket.destroy();
    });
  }

  async #serveWebSocket(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    pending: PendingRequest,
    query: URLSearchParams,
  ): Promise<void> {
    const supported = pending.kind === 'portforward' ? PORT_FORWARD_WS_PROTOCOLS : REMOTE_COMMAND_WS_PROTOCOLS;
    const protocol = chooseChannelProtocol(req, supported);
    if (protocol === undefined) {
      rejectUpgrade(
        socket,
        400,
        `requested protocol(s) are not supported: ${req.headers['sec-websocket-protocol']}; supports ${supported.map((p) => p.name).join(', ')}`,
      );
      return;
    }
    const ports = pending.kind === 'portforward' ? this.#forwardedPorts(pending.request, query) : [];
    if (ports === undefined) {
      rejectUpgrade(socket, 400, "port-forward needs at least one valid port (the request's port list or ?ports=)");
      return;
    }
    const sessions = await loadWebSocket();
    this.#wss ??= new sessions.WebSocketServer({ noServer: true, perMessageDeflate: false });
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onWebSocket(ws, protocol, pending, ports, sessions));
  }

  #onWebSocket(
    ws: WebSocket,
    protocol: ChannelProtocol,
    pending: PendingRequest,
    ports: number[],
    sessions: Awaited<ReturnType<typeof loadWebSocket>>,
  ): void {
    const { logger } = this.#options;
    const { servePortForwardOverWebSocket, serveRemoteCommandOverWebSocket } = sessions;
    const session =
      pending.kind === 'portforward'
        ? servePortForwardOverWebSocket(
            ws,
            protocol,
            pending.request.pod_sandbox_id,
            ports,
            this.#runtime,
            logger.child({ podId: pending.request.pod_sandbox_id }),
          )
        : serveRemoteCommandOverWebSocket(
            ws,
            protocol,
            pending,
            this.#runtime,
            logger.child({ containerId: pending.request.container_id }),
          );
    session.catch((err: unknown) => {
      logger.error({ err }, 'websocket session failed');
      ws.terminate();
    });
  }

  /** The CRI request's ports are authoritative; a WebSocket client may name them in ?ports= otherwise. */
  #forwardedPorts(request: PortForwardRequest__Output, query: URLSearchParams): number[] | undefined {
    const named =
      request.port.length > 0 ? request.port.map(String) : query.getAll('ports').flatMap((v) => v.split(','));
    const ports = named.map((p) => parsePort(p.trim()));
    return ports.length > 0 && ports.every((p) => p !== undefined) ? (ports as number[]) : undefined;
  }
}
