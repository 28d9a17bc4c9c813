// The CRI gRPC server on a unix socket that only root (and root's group) may use.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { CRI_OBJECT_OPTIONS, criRoot, encodeObject } from '../proto.ts';
import { failedPrecondition, unimplemented } from '../errors.ts';
import type { Logger } from '../log.ts';
import { relay } from '../util/relay.ts';
import { unixSocketPair } from '../util/libc.ts';
import type { RpcTable, StreamHandler, UnaryHandler } from './rpc.ts';
import { instrumentStream, instrumentUnary, type InstrumentOptions } from './instrument.ts';
import { AuthorityRewriter } from './authority-rewrite.ts';

const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
const SOCKET_MODE = 0o660;

export interface CriRpcs {
  runtime: RpcTable;
  image: RpcTable;
  /** Wraps each RPC's handler (the table's, or the Unimplemented answer) before it is instrumented: the request checks. */
  wrap: (service: string, rpc: string, handler: UnaryHandler | StreamHandler) => UnaryHandler | StreamHandler;
}

/**
 * A CRI service's methods for grpc-js, with the codecs @grpc/proto-loader would make; built from the
 * Root the request checks use, without the descriptor protos proto-loader makes for reflection
 * (about 30 ms of every start).
 */
function serviceDefinition(name: string): grpc.ServiceDefinition {
  const service = criRoot().lookupService(`runtime.v1.${name}`);
  return Object.fromEntries(
    service.methodsArray.map((method) => {
      const request = method.resolvedRequestType!;
      const response = method.resolvedResponseType!;
      const definition: grpc.MethodDefinition<object, object> = {
        path: `/runtime.v1.${name}/${method.name}`,
        requestStream: !!method.requestStream,
        responseStream: !!method.responseStream,
        requestSerialize: serializer(request),
        requestDeserialize: deserializer(request),
        responseSerialize: serializer(response),
        responseDeserialize: deserializer(response),
      };
      return [method.name, definition];
    }),
  );
}

const serializer = (type: protobuf.Type) => (value: object) => encodeObject(type, value);
const deserializer = (type: protobuf.Type) => (bytes: Buffer) => type.toObject(type.decode(bytes), CRI_OBJECT_OPTIONS);

function criServices() {
  return { runtime: serviceDefinition('RuntimeService'), image: serviceDefinition('ImageService') };
}

function notImplemented(service: string, rpc: string): UnaryHandler {
  return async () => {
    throw unimplemented(`${service}/${rpc} is not implemented by crid yet`);
  };
}

function implementation(
  service: string,
  definition: grpc.ServiceDefinition,
  table: RpcTable,
  wrap: CriRpcs['wrap'],
  opts: InstrumentOptions,
): grpc.UntypedServiceImplementation {
  const impl: grpc.UntypedServiceImplementation = {};
  for (const [rpc, method] of Object.entries(definition)) {
    const handler = wrap(service, rpc, table[rpc] ?? notImplemented(service, rpc));
    impl[rpc] = method.responseStream
      ? instrumentStream(rpc, handler as StreamHandler<object>, opts)
      : instrumentUnary(rpc, handler as UnaryHandler<object>, opts);
  }
  return impl;
}

/** True when something accepts connections on the socket path. */
function socketIsLive(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = net.connect(socketPath);
    conn.once('connect', () => {
      conn.destroy();
      resolve(true);
    });
    conn.once('error', () => resolve(false));
  });
}

async function claimSocketPath(socketPath: string): Promise<void> {
  await fs.promises.mkdir(path.dirname(socketPath), { recursive: true, mode: 0o711 });
  const stat = await fs.promises.lstat(socketPath).catch(() => null);
  if (!stat) return;
  if (!stat.isSocket()) throw failedPrecondition(`${socketPath} exists and is not a socket; refusing to replace it`);
  if (await socketIsLive(socketPath)) {
    throw failedPrecondition(`another crid (or another server) is already serving on ${socketPath}`);
  }
  await fs.promises.unlink(socketPath);
}

function listen(listener: net.Server, socketPath: string): Promise<void> {
  // A tight umask keeps the socket private from its first moment; chmod then opens it to the group.
  const previous = process.umask(0o177);
  return new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(socketPath, () => {
      process.umask(previous);
      listener.off('error', reject);
      resolve();
    });
  }).finally(() => process.umask(previous));
}

/**
 * The gRPC server's end of a socket pair: the other end gets the client's bytes with request
 * authorities made acceptable to Node's HTTP/2 (see authority-rewrite.ts) and passes the answers
 * back. HTTP/2 thus reads and writes a native socket; handed the rewriter's stream itself, it went
 * through Node's adapter for JavaScript streams, which cost about 15 % of crid's CPU per call. A client
 * that breaks the connection or sends what cannot be decoded loses this connection only.
 */
function rewrittenConnection(client: net.Socket, log: Logger): net.Socket {
  const [serverFd, relayFd] = unixSocketPair();
  const server = new net.Socket({ fd: serverFd, readable: true, writable: true });
  const relayEnd = new net.Socket({ fd: relayFd, readable: true, writable: true });
  const rewriter = new AuthorityRewriter();
  const drop = () => {
    client.destroy();
    relayEnd.destroy();
    server.destroy();
  };
  const what = 'CRI connection';
  client.on('data', (chunk: Buffer) => {
    let bytes: Buffer;
    try {
      bytes = rewriter.feed(chunk);
    } catch (err) {
      log.debug({ err }, `${what}: undecodable request headers`);
      drop();
      return;
    }
    if (bytes.length === 0 || relayEnd.write(bytes)) return;
    client.pause();
    relayEnd.once('drain', () => client.resume());
  });
  client.on('end', () => relayEnd.end());
  relay(relayEnd, client, log, { what, onError: drop });
  client.on('close', drop);
  relayEnd.on('close', drop);
  return server;
}

export class CriServer {
  readonly socketPath: string;
  private readonly server: grpc.Server;
  private readonly listener: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly log: Logger;

  constructor(socketPath: string, rpcs: CriRpcs, opts: InstrumentOptions) {
    this.socketPath = socketPath;
    this.log = opts.log;
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      // Nothing reads channelz here (no admin service); its per-call tracking cost CPU on every call.
      'grpc.enable_channelz': 0,
    });
    const services = criServices();
    this.server.addService(
      services.runtime,
      implementation('RuntimeService', services.runtime, rpcs.runtime, rpcs.wrap, opts),
    );
    this.server.addService(services.image, implementation('ImageService', services.image, rpcs.image, rpcs.wrap, opts));
    const injector = this.server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    this.listener = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      try {
        injector.injectConnection(rewrittenConnection(socket, opts.log));
      } catch (err) {
        opts.log.warn({ err }, 'cannot serve a CRI connection');
        socket.destroy();
      }
    });
  }

  async start(): Promise<void> {
    await claimSocketPath(this.socketPath);
    await listen(this.listener, this.socketPath);
    this.listener.on('error', (err) => this.log.warn({ err }, 'CRI socket error'));
    await fs.promises.chown(this.socketPath, 0, 0);
    await fs.promises.chmod(this.socketPath, SOCKET_MODE);
  }

  async stop(graceMs = 5000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.listener.close(() => resolve()));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    for (const socket of this.sockets) socket.destroy();
    await closed;
    await fs.promises.unlink(this.socketPath).catch(() => {});
  }
}
