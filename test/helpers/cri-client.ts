// A real CRI gRPC client for tests and benchmarks, promisified.
import * as grpc from '@grpc/grpc-js';
import { loadCri } from '../../src/proto.ts';

export type Call = (request?: object, timeoutMs?: number) => Promise<any>;

export interface CriClient {
  runtime: Record<string, Call>;
  image: Record<string, Call>;
  /** Server-streaming calls (GetContainerEvents, Stream*): returns the raw stream. */
  stream(rpc: string, request?: object, service?: 'runtime' | 'image'): grpc.ClientReadableStream<any>;
  close(): void;
}

function promisify(client: grpc.Client): Record<string, Call> {
  return new Proxy({} as Record<string, Call>, {
    get: (_target, rpc: string) => (request: object = {}, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const fn = (client as any)[rpc];
        if (typeof fn !== 'function') return reject(new Error(`no RPC ${rpc}`));
        fn.call(client, request, { deadline: Date.now() + timeoutMs }, (err: grpc.ServiceError | null, res: any) =>
          err ? reject(err) : resolve(res),
        );
      }),
  });
}

export function criClient(socketPath: string): CriClient {
  const pkg = grpc.loadPackageDefinition(loadCri()) as any;
  const address = `unix://${socketPath}`;
  const credentials = grpc.credentials.createInsecure();
  const runtime = new pkg.runtime.v1.RuntimeService(address, credentials) as grpc.Client;
  const image = new pkg.runtime.v1.ImageService(address, credentials) as grpc.Client;
  return {
    runtime: promisify(runtime),
    image: promisify(image),
    stream: (rpc, request = {}, service = 'runtime') => ((service === 'runtime' ? runtime : image) as any)[rpc](request),
    close: () => {
      runtime.close();
      image.close();
    },
  };
}
