// A CRI client meant to be SIGKILLed mid-call: `node doomed-cri-client.ts SOCKET RPC REQUEST_JSON`
// starts the call and prints "calling" once it is on the wire (and each streamed message).
import * as grpc from '@grpc/grpc-js';
import { clientMethod, criPackage } from '../helpers/cri-client.ts';

const [socket, rpc, request] = process.argv.slice(2) as [string, string, string];
const client = new (criPackage().runtime.v1.RuntimeService)(`unix://${socket}`, grpc.credentials.createInsecure());
const method = clientMethod(client, rpc)!;
const call = method.responseStream
  ? method.call(client, JSON.parse(request))
  : method.call(client, JSON.parse(request), (err: Error | null) =>
      process.stdout.write(`done ${err?.message ?? ''}\n`),
    );
call.on('metadata', () => process.stdout.write('metadata\n'));
call.on?.('data', () => process.stdout.write('message\n'));
call.on?.('error', () => {});
process.stdout.write('calling\n');
