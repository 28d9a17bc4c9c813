// Loading CNI network configurations from a conf dir, the way libcni and containerd's go-cni do:
// `*.conflist`, `*.conf`, `*.json` in name order; a single-plugin `.conf` becomes a one-plugin list.
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { failedPrecondition } from '../errors.ts';

export interface CniPluginConf {
  type: string;
  /** Runtime capabilities the plugin accepts in `runtimeConfig` (portMappings, dns, bandwidth, …). */
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

export interface CniNetworkList {
  name: string;
  cniVersion: string;
  plugins: CniPluginConf[];
  /** The file it came from ("" when not loaded from a file). */
  file: string;
}

export interface LoadedNetworks {
  networks: CniNetworkList[];
  /** Files that were skipped, with why. */
  skipped: { file: string; reason: string }[];
}

const CONF_EXTENSIONS = new Set(['.conflist', '.conf', '.json']);

async function confFiles(confDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(confDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .filter((n) => CONF_EXTENSIONS.has(extname(n)))
    .sort()
    .map((n) => join(confDir, n));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkPlugin(plugin: unknown, where: string): CniPluginConf {
  if (!isObject(plugin) || typeof plugin.type !== 'string' || plugin.type === '') {
    throw new Error(`${where}: plugin has no "type"`);
  }
  return plugin as CniPluginConf;
}

/** Parses one conf file's text into a network list; throws an Error saying what is wrong. */
export function parseNetworkConfig(text: string, file: string): CniNetworkList {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`invalid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!isObject(doc)) throw new Error('not a JSON object');
  if (typeof doc.name !== 'string' || doc.name === '') throw new Error('no "name"');
  const cniVersion = typeof doc.cniVersion === 'string' ? doc.cniVersion : '0.1.0';
  if (extname(file) === '.conflist') {
    if (!Array.isArray(doc.plugins) || doc.plugins.length === 0) throw new Error('no "plugins"');
    const plugins = doc.plugins.map((p, i) => checkPlugin(p, `plugins[${i}]`));
    return { name: doc.name, cniVersion, plugins, file };
  }
  return { name: doc.name, cniVersion, plugins: [checkPlugin(doc, 'network')], file };
}

/**
 * The valid networks of a conf dir in name order, at most `maxConfNum` of them (0 = all).
 * A missing dir yields none; invalid files are skipped and reported.
 */
export async function loadNetworks(confDir: string, maxConfNum: number): Promise<LoadedNetworks> {
  const loaded: LoadedNetworks = { networks: [], skipped: [] };
  for (const file of await confFiles(confDir)) {
    if (maxConfNum > 0 && loaded.networks.length >= maxConfNum) break;
    try {
      loaded.networks.push(parseNetworkConfig(await readFile(file, 'utf8'), file));
    } catch (err) {
      loaded.skipped.push({ file, reason: (err as Error).message });
    }
  }
  return loaded;
}

/** Like loadNetworks, but no valid network is an error with containerd's wording. */
export async function loadPodNetworks(confDir: string, maxConfNum: number): Promise<CniNetworkList[]> {
  const { networks, skipped } = await loadNetworks(confDir, maxConfNum);
  if (networks.length > 0) return networks;
  const why = skipped.map((s) => `; skipped ${s.file}: ${s.reason}`).join('');
  throw failedPrecondition(
    `cni config load failed: no network config found in ${confDir}${why}: cni plugin not initialized`,
  );
}
