// A pod's network: its netns and the CNI networks in it, set up (with their undo) and torn down.
import { createNetns, removeNetns } from '../../network/netns.ts';
import { cniSettingsFor, setupPodNetwork, teardownPodNetwork } from '../../network/pod-network.ts';
import type { SandboxRecord } from '../../store/sandbox.ts';
import type { PodDeps } from '../deps.ts';
import type { SandboxMaking } from './making.ts';

/** A pod's network in the making: its netns exists once `netns` resolves, CNI ADD is done once `ips` does. */
export interface SandboxNetwork {
  netns: Promise<void>;
  ips: Promise<string[]>;
}

/**
 * Makes the pod's netns (its path chosen and recorded beforehand; '' for a host-network pod) and
 * runs CNI ADD in it while the pause container's files, rootfs and shim are made, as promises.
 */
export function startSandboxNetwork(m: SandboxMaking, netnsPath: string): SandboxNetwork {
  if (!netnsPath) return { netns: Promise.resolve(), ips: Promise.resolve([]) };
  m.undo.push('remove netns', () => removeNetns(netnsPath));
  const netns = createNetns(netnsPath).then(() => {});
  const ips = netns.then(() => setUpNetwork(m, netnsPath));
  // Awaited before the task is created or, on a failure, before the undo: never left unobserved.
  netns.catch(() => {});
  ips.catch(() => {});
  return { netns, ips };
}

/** CNI ADD in the pod's netns. */
async function setUpNetwork(m: SandboxMaking, netnsPath: string): Promise<string[]> {
  const { config, log } = m;
  const cni = cniSettingsFor(m.deps.config().cni, m.handler);
  const target = {
    podId: m.id,
    netnsPath,
    podName: config.metadata!.name,
    podNamespace: config.metadata!.namespace,
    podUid: config.metadata!.uid,
  };
  m.undo.push('tear down pod network', () => teardownPodNetwork(cni, target, log));
  const setup = await m.phase('network_setup', () =>
    setupPodNetwork(
      cni,
      { ...target, portMappings: config.port_mappings, dns: config.dns_config, annotations: config.annotations },
      log,
    ),
  );
  return setup.ips;
}

/**
 * Tears down the pod's network and removes its netns; safe to repeat. Once a stop has done it, a
 * later stop or remove runs no CNI DEL again (as containerd, which finds the netns closed).
 */
export async function teardownSandboxNetwork(deps: PodDeps, sandbox: SandboxRecord): Promise<void> {
  if (!sandbox.netnsPath || sandbox.networkDown) return;
  const m = sandbox.config.metadata!;
  const cni = cniSettingsFor(deps.config().cni, sandbox.handler);
  await teardownPodNetwork(
    cni,
    { podId: sandbox.id, netnsPath: sandbox.netnsPath, podName: m.name, podNamespace: m.namespace, podUid: m.uid },
    deps.log.child({ podId: sandbox.id }),
  );
  await removeNetns(sandbox.netnsPath);
}
