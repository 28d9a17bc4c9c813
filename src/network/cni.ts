// libcni's AddNetworkList / DelNetworkList: a network list's plugins chained in order for ADD
// (each gets the previous result), in reverse for DEL (each gets the cached ADD result).
import type { Logger } from '../log.ts';
import { readCache, removeCache, writeCache } from './cni-cache.ts';
import type { CniNetworkList, CniPluginConf } from './cni-config.ts';
import { execPlugin, type CniCommand } from './cni-exec.ts';
import type { CniResult } from './cni-result.ts';

/** Who and where: the same for every plugin of one attachment. */
export interface CniAttachment {
  containerId: string;
  netnsPath: string;
  ifName: string;
  cniArgs: [string, string][];
  /** Runtime capability values by name: portMappings, dns, bandwidth, … */
  capabilityArgs: Record<string, unknown>;
}

export interface CniRunOptions {
  binDirs: string[];
  /** Where ADD results are cached (libcni uses /var/lib/cni). */
  cacheDir: string;
  /** Per plugin call. */
  timeoutMs: number;
  /** The pod's logger: its podId is bound. */
  log: Logger;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Only capabilities the plugin declares get a value, as libcni's injectRuntimeConfig does. */
function runtimeConfigFor(plugin: CniPluginConf, capabilityArgs: Record<string, unknown>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [name, enabled] of Object.entries(plugin.capabilities ?? {})) {
    if (enabled && capabilityArgs[name] !== undefined) config[name] = capabilityArgs[name];
  }
  return config;
}

function pluginStdin(
  network: CniNetworkList,
  plugin: CniPluginConf,
  att: CniAttachment,
  prevResult: CniResult | undefined,
): Record<string, unknown> {
  const stdin: Record<string, unknown> = { ...plugin, name: network.name, cniVersion: network.cniVersion };
  if (prevResult !== undefined) stdin.prevResult = prevResult;
  const runtimeConfig = runtimeConfigFor(plugin, att.capabilityArgs);
  if (Object.keys(runtimeConfig).length > 0) stdin.runtimeConfig = runtimeConfig;
  return stdin;
}

async function runPlugin(
  command: CniCommand,
  network: CniNetworkList,
  plugin: CniPluginConf,
  att: CniAttachment,
  prevResult: CniResult | undefined,
  opts: CniRunOptions,
): Promise<CniResult> {
  opts.log.debug({ plugin: plugin.type, network: network.name, command }, 'running CNI plugin');
  return execPlugin({
    command,
    type: plugin.type,
    networkName: network.name,
    containerId: att.containerId,
    netnsPath: att.netnsPath,
    ifName: att.ifName,
    cniArgs: att.cniArgs,
    binDirs: opts.binDirs,
    stdin: pluginStdin(network, plugin, att, prevResult),
    timeoutMs: opts.timeoutMs,
  });
}

/** Runs ADD through the list and caches the final result. Does not undo on failure: call delNetworkList. */
export async function addNetworkList(
  network: CniNetworkList,
  att: CniAttachment,
  opts: CniRunOptions,
): Promise<CniResult> {
  let result: CniResult | undefined;
  for (const plugin of network.plugins) {
    result = await runPlugin('ADD', network, plugin, att, result, opts);
  }
  const final = result ?? {};
  await writeCache(opts.cacheDir, { ...att, network, result: final });
  return final;
}

/**
 * Runs DEL through the list in reverse. The cached ADD (config, args, result) is preferred over the
 * given network so a pod is torn down the way it was set up even if the conf dir changed since.
 * Unlike libcni it goes on past a failing plugin so the others still release what they hold; the
 * first failure is thrown and the cache kept, so a retry can finish.
 */
export async function delNetworkList(network: CniNetworkList, att: CniAttachment, opts: CniRunOptions): Promise<void> {
  const cached = await readCache(opts.cacheDir, network.name, att.containerId, att.ifName);
  const net = cached?.network ?? network;
  const used: CniAttachment = cached ? { ...att, cniArgs: cached.cniArgs, capabilityArgs: cached.capabilityArgs } : att;
  const prevResult = cached && compareVersions(net.cniVersion, '0.4.0') >= 0 ? cached.result : undefined;
  const failures: unknown[] = [];
  for (const plugin of [...net.plugins].reverse()) {
    await runPlugin('DEL', net, plugin, used, prevResult, opts).catch((err: unknown) => failures.push(err));
  }
  if (failures.length > 0) throw failures[0];
  await removeCache(opts.cacheDir, network.name, att.containerId, att.ifName);
}
