// PortForward's pod side: a connection to the port on the pod's loopback, made from inside its netns.
import type { Duplex } from 'node:stream';
import { failedPrecondition } from '../../errors.ts';
import { dialInNetns } from '../../network/netns-dial.ts';
import { relay } from '../../util/relay.ts';
import type { PodDeps } from '../deps.ts';

export async function portForwardIntoPod(
  deps: PodDeps,
  podSandboxId: string,
  port: number,
  stream: Duplex,
  signal: AbortSignal,
): Promise<void> {
  const sandbox = deps.sandboxes.get(podSandboxId);
  if (sandbox.state !== 'SANDBOX_READY') throw failedPrecondition(`pod sandbox ${sandbox.id} is not ready`);
  // A host-network pod shares the node's loopback: crid's own namespace is the right one.
  const conn = dialInNetns(sandbox.netnsPath || '/proc/self/ns/net', port);
  const close = () => conn.close();
  signal.addEventListener('abort', close, { once: true });
  const log = deps.log.child({ podId: sandbox.id, port });
  // Any broken side ends the connection; the connection's end, awaited below, says how it ended.
  const stopInput = relay(stream, conn.input, log, { what: 'port-forward to pod', onError: close });
  const stopOutput = relay(conn.output, stream, log, { what: 'port-forward from pod', end: false, onError: close });
  try {
    await conn.done;
  } finally {
    signal.removeEventListener('abort', close);
    stopInput();
    stopOutput();
  }
}
