// A real CRI gRPC client for tests and benchmarks, promisified.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { MethodDefinition } from '@grpc/proto-loader';
import type { ProtoGrpcType } from '../../src/generated/api.ts';
import type { ImageServiceDefinition } from '../../src/generated/runtime/v1/ImageService.ts';
import type { RuntimeServiceDefinition } from '../../src/generated/runtime/v1/RuntimeService.ts';
import fs from 'node:fs';
import { CRI_OBJECT_OPTIONS, descriptorFile } from '../../src/proto.ts';

/** One promisified RPC: the request as written, the response as decoded (defaults filled in). */
export type Call<Req = object, Res = unknown> = (request?: Req, timeoutMs?: number) => Promise<Res>;

/** The promisified RPCs of a service definition, typed by name; any RPC by a computed name. */
type Calls<D> = Record<string, Call> & {
  [R in keyof D as string extends R ? never : R]: D[R] extends MethodDefinition<
    infer Req,
    infer _Res,
    infer _ReqOut,
    infer Res
  >
    ? Call<Req, Res>
    : never;
};

export interface CriClient {
  runtime: Calls<RuntimeServiceDefinition>;
  image: Calls<ImageServiceDefinition>;
  /** Server-streaming calls (GetContainerEvents, Stream*): returns the raw stream. */
  stream(rpc: string, request?: object, service?: 'runtime' | 'image'): grpc.ClientReadableStream<unknown>;
  close(): void;
}

/** An RPC method of a generated client (grpc-js adds one per RPC), for calls by a computed name; `call` it on the client. */
export type ClientMethod = ((...args: unknown[]) => grpc.ClientUnaryCall | grpc.ClientReadableStream<unknown>) & {
  responseStream?: boolean;
};

export function clientMethod(client: grpc.Client, rpc: string): ClientMethod | undefined {
  const fn = (client as unknown as Record<string, unknown>)[rpc];
  return typeof fn === 'function' ? (fn as ClientMethod) : undefined;
}

/** The CRI services as @grpc/proto-loader makes them for a client (keepCase is in the descriptor's names). */
export function loadCri(): protoLoader.PackageDefinition {
  return protoLoader.fromJSON(JSON.parse(fs.readFileSync(descriptorFile('cri'), 'utf8')), {
    ...CRI_OBJECT_OPTIONS,
    keepCase: true,
  } as protoLoader.Options);
}

/** The generated CRI package, typed. */
export function criPackage(): ProtoGrpcType {
  return grpc.loadPackageDefinition(loadCri()) as unknown as ProtoGrpcType;
}

function promisify<T>(client: grpc.Client): T {
  return new Proxy({} as T & object, {
    get:
      (_target, rpc: string) =>
      (request: object = {}, timeoutMs = 120_000) =>
        new Promise((resolve, reject) => {
          const fn = clientMethod(client, rpc);
          if (fn === undefined) return reject(new Error(`no RPC ${rpc}`));
          fn.call(
            client,
            request,
            { deadline: Date.now() + timeoutMs },
            (err: grpc.ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res)),
          );
        }),
  });
}

export function criClient(socketPath: string): CriClient {
  const pkg = criPackage();
  const address = `unix://${socketPath}`;
  const credentials = grpc.credentials.createInsecure();
  const runtime = new pkg.runtime.v1.RuntimeService(address, credentials);
  const image = new pkg.runtime.v1.ImageService(address, credentials);
  return {
    runtime: promisify(runtime),
    image: promisify(image),
    stream: (rpc, request = {}, service = 'runtime') => {
      const client = service === 'runtime' ? runtime : image;
      return clientMethod(client, rpc)!.call(client, request) as grpc.ClientReadableStream<unknown>;
    },
    close: () => {
      runtime.close();
      image.close();
    },
  };
}
