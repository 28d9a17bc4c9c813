// `crid publish`: the legacy v1 shim runs `<containerd-binary> --address A publish --topic T --namespace N`
// with a serialized google.protobuf.Any on stdin for each event; this relays it to the running crid's
// events socket as an Envelope over ttrpc, the same path v2 shims use.
import { TtrpcClient } from '../ttrpc/client.ts';
import { decodeMessage, encodeMessage, nowTimestamp } from '../ttrpc/codec.ts';
import { EVENTS_SERVICE, FORWARD_REQUEST } from '../events/event-server.ts';
import { parseCommandArgs } from './parse-args.ts';

const USAGE = 'Usage: crid [--address SOCKET] publish --address SOCKET --topic TOPIC --namespace NS < event.any\n';
const FORWARD_TIMEOUT_MS = 5_000;

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Accepts the flags before or after the `publish` word, as the shim puts --address first. */
export async function runPublishCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs({
    args: argv.filter((arg) => arg !== 'publish'),
    options: {
      address: { type: 'string', short: 'a' },
      topic: { type: 'string' },
      namespace: { type: 'string', short: 'n' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if ('error' in parsed) {
    process.stderr.write(`crid publish: ${parsed.error}\n${USAGE}`);
    return 2;
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!values.address || !values.topic || !values.namespace) {
    process.stderr.write(`crid publish: --address, --topic and --namespace are required\n${USAGE}`);
    return 2;
  }
  const event = decodeMessage('google.protobuf.Any', await readStdin());
  const request = encodeMessage(FORWARD_REQUEST, {
    envelope: { timestamp: nowTimestamp(), namespace: values.namespace, topic: values.topic, event },
  });
  const client = await TtrpcClient.connect(values.address, FORWARD_TIMEOUT_MS);
  try {
    await client.call(EVENTS_SERVICE, 'Forward', request, {
      timeoutMs: FORWARD_TIMEOUT_MS,
      metadata: { 'containerd-namespace-ttrpc': values.namespace },
    });
  } finally {
    client.close();
  }
  return 0;
}
