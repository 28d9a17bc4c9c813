// The pod layer's view of networking: attach a pod's netns to the CNI networks, detach it,
// and say whether the node's network is ready.
import type { CniConfig, RuntimeHandler } from '../config/model.ts';
import type { DNSConfig__Output } from '../generated/runtime/v1/DNSConfig.ts';
import type { PortMapping__Output } from '../generated/runtime/v1/PortMapping.ts';
import type { Logger } from '../log.ts';
import { wrap } from '../errors.ts';
import { bandwidthFromAnnotations } from './bandwidth.ts';
import { listCache } from './cni-cache.ts';
import { loadNetworks, loadPodNetworks, type CniNetworkList } from './cni-config.ts';
import { findPlugin } from './cni-exec.ts';
import { podIps, type CniResult } from './cni-result.ts';
import { addNetworkList, delNetworkList, type CniAttachment, type CniRunOptions } from './cni.ts';
import { netnsMounted } from './netns.ts';

/** Where CNI lives for one pod: the global `[cni]` settings or the handler's override. */
export interface CniSettings {
  binDirs: string[];
  confDir: string;
  /** Networks attached, from the first in name order (0 = all). */
  maxConfNum: number;
  /** ADD result cache; libcni's is /var/lib/cni. */
  cacheDir: string;
  /** Per plugin call. */
  timeoutMs: number;
}

export const DEFAULT_CNI_CACHE_DIR = '/var/lib/cni';
export const DEFAULT_PLUGIN_TIMEOUT_MS = 60_000;
/** containerd hands plugins that declare this capability the pod's annotations. */
export const POD_ANNOTATIONS_CAPABILITY = 'io.kubernetes.cri.pod-annotations';

export interface PodNetworkTarget {
  podId: string;
  netnsPath: string;
  podName: string;
  podNamespace: string;
  podUid: string;
}

export interface PodNetworkRequest extends PodNetworkTarget {
  portMappings?: PortMapping__Output[];
  dns?: DNSConfig__Output | null;
  /** Pod annotations: bandwidth limits, and the whole set for plugins that ask for it. */
  annotations?: Record<string, string>;
}

export interface NetworkAttachment {
  network: string;
  ifName: string;
  result: CniResult;
}

export interface PodNetworkSetup {
  /** IPv4 first, then the others; the first is the pod IP. */
  ips: string[];
  attachments: NetworkAttachment[];
}

export interface NetworkStatus {
  ready: boolean;
  reason: string;
  message: string;
}

/** The CNI settings a pod of this handler uses: the handler's `cni_conf_dir` wins, like containerd. */
export function cniSettingsFor(
  cni: CniConfig,
  handler?: RuntimeHandler,
  cacheDir = DEFAULT_CNI_CACHE_DIR,
): CniSettings {
  const own = handler !== undefined && handler.cni_conf_dir !== '';
  return {
    binDirs: cni.bin_dirs,
    confDir: own ? handler.cni_conf_dir : cni.conf_dir,
    maxConfNum: own ? handler.cni_max_conf_num : cni.max_conf_num,
    cacheDir,
    timeoutMs: DEFAULT_PLUGIN_TIMEOUT_MS,
  };
}

function cniArgs(t: PodNetworkTarget): [string, string][] {
  return [
    ['IgnoreUnknown', '1'],
    ['K8S_POD_NAMESPACE', t.podNamespace],
    ['K8S_POD_NAME', t.podName],
    ['K8S_POD_INFRA_CONTAINER_ID', t.podId],
    ['K8S_POD_UID', t.podUid],
  ];
}

/** CRI port mappings as the portmap plugin reads them; no host port means no mapping. */
export function toCniPortMappings(mappings: PortMapping__Output[]): Record<string, unknown>[] {
  return mappings
    .filter((m) => m.host_port > 0)
    .map((m) => ({
      hostPort: m.host_port,
      containerPort: m.container_port,
      protocol: String(m.protocol ?? 'TCP').toLowerCase(),
      hostIP: m.host_ip ?? '',
    }));
}

function capabilityArgs(req: PodNetworkRequest): Record<string, unknown> {
  const annotations = req.annotations ?? {};
  const args: Record<string, unknown> = {
    portMappings: toCniPortMappings(req.portMappings ?? []),
    [POD_ANNOTATIONS_CAPABILITY]: annotations,
  };
  if (req.dns) args.dns = { servers: req.dns.servers, searches: req.dns.searches, options: req.dns.options };
  const bandwidth = bandwidthFromAnnotations(annotations);
  if (bandwidth) args.bandwidth = bandwidth;
  return args;
}

/** One network on one pod interface. */
interface Slot {
  network: CniNetworkList;
  ifName: string;
}

function slots(networks: CniNetworkList[]): Slot[] {
  return networks.map((network, i) => ({ network, ifName: `eth${i}` }));
}

function attachment(
  t: PodNetworkTarget,
  ifName: string,
  netnsPath: string,
  capArgs: Record<string, unknown>,
): CniAttachment {
  return { containerId: t.podId, netnsPath, ifName, cniArgs: cniArgs(t), capabilityArgs: capArgs };
}

function runOptions(cni: CniSettings, log: Logger): CniRunOptions {
  return { binDirs: cni.binDirs, cacheDir: cni.cacheDir, timeoutMs: cni.timeoutMs, log };
}

/**
 * Runs CNI ADD for each pod network (eth0, eth1, …). If any step fails, what was done is
 * undone (DEL of every network) before the error is thrown. `log` is the pod's: its podId is bound.
 */
export async function setupPodNetwork(cni: CniSettings, req: PodNetworkRequest, log: Logger): Promise<PodNetworkSetup> {
  const planned = slots(await loadPodNetworks(cni.confDir, cni.maxConfNum));
  const opts = runOptions(cni, log);
  const capArgs = capabilityArgs(req);
  const attachments: NetworkAttachment[] = [];
  try {
    for (const { network, ifName } of planned) {
      const result = await addNetworkList(network, attachment(req, ifName, req.netnsPath, capArgs), opts);
      attachments.push({ network: network.name, ifName, result });
    }
  } catch (err) {
    await delNetworks(planned, req, req.netnsPath, capArgs, opts).catch((undoErr: unknown) =>
      log.warn({ err: undoErr }, 'CNI DEL after a failed ADD failed'),
    );
    throw wrap(err, `failed to set up network for sandbox ${req.podId}`);
  }
  const ips = podIps(attachments[0]?.result ?? {});
  log.info({ ips, networks: attachments.map((a) => a.network) }, 'pod network set up');
  return { ips, attachments };
}

async function delNetworks(
  planned: Slot[],
  t: PodNetworkTarget,
  netnsPath: string,
  capArgs: Record<string, unknown>,
  opts: CniRunOptions,
): Promise<void> {
  const failures: unknown[] = [];
  for (const { network, ifName } of [...planned].reverse()) {
    await delNetworkList(network, attachment(t, ifName, netnsPath, capArgs), opts).catch((err: unknown) =>
      failures.push(err),
    );
  }
  if (failures.length > 0) throw failures[0];
}

/** What to DEL: the attachments the cache recorded, else the current config's networks. */
async function slotsToDelete(cni: CniSettings, podId: string): Promise<Slot[]> {
  const cached = await listCache(cni.cacheDir, podId);
  if (cached.length > 0) {
    const byIfName = (a: Slot, b: Slot) => a.ifName.localeCompare(b.ifName, 'en', { numeric: true });
    return cached.map((c) => ({ network: c.network, ifName: c.ifName })).sort(byIfName);
  }
  return slots((await loadNetworks(cni.confDir, cni.maxConfNum)).networks);
}

/**
 * Runs CNI DEL for the pod. Already-gone state is fine: a missing netns is passed as "" (the
 * plugins then release what they hold outside it) and a missing cache means DEL with the
 * current config and no prevResult. Throws only when a plugin fails. `log` is the pod's (podId bound).
 */
export async function teardownPodNetwork(cni: CniSettings, target: PodNetworkTarget, log: Logger): Promise<void> {
  const planned = await slotsToDelete(cni, target.podId);
  const netnsPath = target.netnsPath !== '' && (await netnsMounted(target.netnsPath)) ? target.netnsPath : '';
  try {
    await delNetworks(planned, target, netnsPath, {}, runOptions(cni, log));
  } catch (err) {
    throw wrap(err, `failed to tear down network for sandbox ${target.podId}`);
  }
  log.info({ networks: planned.map((p) => p.network.name) }, 'pod network torn down');
}

/** The pod IPs recorded by the last ADD (eth0's), e.g. to check a recovered sandbox; [] if none. */
export async function cachedPodIps(cacheDir: string, podId: string): Promise<string[]> {
  const eth0 = (await listCache(cacheDir, podId)).find((c) => c.ifName === 'eth0');
  return eth0 ? podIps(eth0.result) : [];
}

/** NetworkReady as the CRI Status reports it: a loadable config whose plugins are installed. */
export async function networkStatus(confDir: string, binDirs: string[], maxConfNum = 1): Promise<NetworkStatus> {
  try {
    const networks = await loadPodNetworks(confDir, maxConfNum);
    for (const plugin of networks.flatMap((n) => n.plugins)) await findPlugin(plugin.type, binDirs);
  } catch (err) {
    return { ready: false, reason: 'NetworkPluginNotReady', message: (err as Error).message };
  }
  return { ready: true, reason: '', message: '' };
}
