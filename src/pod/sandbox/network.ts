// A pod's network: its netns and the CNI networks in it.
import { removeNetns } from '../../network/netns.ts';
import { cniSettingsFor, teardownPodNetwork } from '../../network/pod-network.ts';
import type { SandboxRecord } from '../../store/sandbox.ts';
import type { PodDeps } from '../deps.ts';

/** Tears down the pod's network and removes its netns; safe to repeat. */
export async function teardownSandboxNetwork(deps: PodDeps, sandbox: SandboxRecord): Promise<void> {
  if (!sandbox.netnsPath) return;
  const m = sandbox.config.metadata!;
  const cni = cniSettingsFor(deps.config().cni, sandbox.handler);
  await teardownPodNetwork(
    cni,
    { podId: sandbox.id, netnsPath: sandbox.netnsPath, podName: m.name, podNamespace: m.namespace, podUid: m.uid },
    deps.log.child({ podId: sandbox.id }),
  );
  await removeNetns(sandbox.netnsPath);
}
