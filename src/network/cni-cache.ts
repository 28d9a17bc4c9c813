// The ADD result cache, in libcni's layout and format (`<cacheDir>/results/<network>-<container>-<ifname>`,
// kind cniCacheV1), so DEL after a restart gets the same config, args and prevResult as ADD had.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CniNetworkList } from './cni-config.ts';
import type { CniResult } from './cni-result.ts';

export interface CachedAttachment {
  network: CniNetworkList;
  containerId: string;
  ifName: string;
  cniArgs: [string, string][];
  capabilityArgs: Record<string, unknown>;
  result: CniResult;
}

interface CacheFile {
  kind: 'cniCacheV1';
  containerId: string;
  config: string;
  ifName: string;
  networkName: string;
  cniArgs: [string, string][];
  capabilityArgs: Record<string, unknown>;
  result: CniResult;
}

export function cachePath(cacheDir: string, networkName: string, containerId: string, ifName: string): string {
  return join(cacheDir, 'results', `${networkName}-${containerId}-${ifName}`);
}

/** The list's JSON as the plugins and the cache see it (`file` is crid's bookkeeping only). */
export function networkJson(network: CniNetworkList): string {
  return JSON.stringify({ cniVersion: network.cniVersion, name: network.name, plugins: network.plugins });
}

export async function writeCache(cacheDir: string, entry: CachedAttachment): Promise<void> {
  const path = cachePath(cacheDir, entry.network.name, entry.containerId, entry.ifName);
  const file: CacheFile = {
    kind: 'cniCacheV1',
    containerId: entry.containerId,
    config: Buffer.from(networkJson(entry.network)).toString('base64'),
    ifName: entry.ifName,
    networkName: entry.network.name,
    cniArgs: entry.cniArgs,
    capabilityArgs: entry.capabilityArgs,
    result: entry.result,
  };
  await mkdir(join(cacheDir, 'results'), { recursive: true, mode: 0o700 });
  await writeFile(`${path}.tmp`, JSON.stringify(file), { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** The cached attachment, or undefined when there is none or it cannot be read. */
export async function readCache(
  cacheDir: string,
  networkName: string,
  containerId: string,
  ifName: string,
): Promise<CachedAttachment | undefined> {
  let file: CacheFile;
  let doc: CniNetworkList;
  try {
    file = JSON.parse(await readFile(cachePath(cacheDir, networkName, containerId, ifName), 'utf8')) as CacheFile;
    doc = JSON.parse(Buffer.from(file.config, 'base64').toString('utf8')) as CniNetworkList;
  } catch {
    return undefined;
  }
  if (file.kind !== 'cniCacheV1' || !Array.isArray(doc.plugins)) return undefined;
  return {
    network: { name: doc.name, cniVersion: doc.cniVersion, plugins: doc.plugins, file: '' },
    containerId: file.containerId,
    ifName: file.ifName,
    cniArgs: file.cniArgs ?? [],
    capabilityArgs: file.capabilityArgs ?? {},
    result: file.result,
  };
}

export async function removeCache(
  cacheDir: string,
  networkName: string,
  containerId: string,
  ifName: string,
): Promise<void> {
  await rm(cachePath(cacheDir, networkName, containerId, ifName), { force: true });
}

/** Every cached attachment of one container (all its networks and interfaces). */
export async function listCache(cacheDir: string, containerId: string): Promise<CachedAttachment[]> {
  let names: string[];
  try {
    names = await readdir(join(cacheDir, 'results'));
  } catch {
    return [];
  }
  const found: CachedAttachment[] = [];
  for (const name of names) {
    const at = name.lastIndexOf(`-${containerId}-`);
    if (at <= 0 || name.endsWith('.tmp')) continue;
    const ifName = name.slice(at + containerId.length + 2);
    const entry = await readCache(cacheDir, name.slice(0, at), containerId, ifName);
    if (entry?.containerId === containerId) found.push(entry);
  }
  return found;
}
