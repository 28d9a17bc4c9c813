// Registry hosts in containerd's `config_path` layout: `<dir>/<host>/hosts.toml` (or
// `<host>_<port>_`, then `_default`) lists mirrors tried in order, then the upstream `server`.
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import TOML from '@iarna/toml';
import { invalidArgument, wrap } from '../errors.ts';

export type HostCapability = 'pull' | 'resolve' | 'push';

export interface RegistryHost {
  scheme: 'http' | 'https';
  /** host[:port] */
  host: string;
  /** API prefix: `/v2` unless the entry sets `override_path`. */
  path: string;
  capabilities: HostCapability[];
  skipVerify: boolean;
  /** CA certificate files (absolute paths). */
  ca: string[];
  header: Record<string, string>;
}

const ALL_CAPABILITIES: HostCapability[] = ['pull', 'resolve', 'push'];
const MIRROR_CAPABILITIES: HostCapability[] = ['pull', 'resolve'];
const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/;

/** The host a registry domain means when nothing is configured. Loopback registries speak plain http. */
export function defaultRegistryHost(domain: string): RegistryHost {
  const host = domain === 'docker.io' ? 'registry-1.docker.io' : domain;
  return {
    scheme: LOOPBACK.test(domain) ? 'http' : 'https',
    host,
    path: '/v2',
    capabilities: ALL_CAPABILITIES,
    skipVerify: false,
    ca: [],
    header: {},
  };
}

/** containerd's directory name for a host with a port: `host:5000` → `host_5000_`. */
function hostDirectoryNames(domain: string): string[] {
  const colon = domain.lastIndexOf(':');
  const withPort = colon > 0 ? `${domain.slice(0, colon)}_${domain.slice(colon + 1)}_` : domain;
  return withPort === domain ? [domain] : [withPort, domain];
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

async function findHostDirectory(configPath: string, domain: string): Promise<string | undefined> {
  const roots = configPath.split(':').filter((p) => p !== '');
  for (const root of roots) {
    for (const name of [...hostDirectoryNames(domain), '_default']) {
      if (await isDirectory(join(root, name))) return join(root, name);
    }
  }
  return undefined;
}

type TomlTable = Record<string, unknown>;

function stringList(value: unknown, key: string, file: string): string[] {
  if (value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  throw invalidArgument(`${file}: ${key} must be a string or a list of strings`);
}

function capabilitiesOf(value: unknown, fallback: HostCapability[], file: string): HostCapability[] {
  if (value === undefined) return fallback;
  const list = stringList(value, 'capabilities', file);
  for (const c of list) {
    if (!ALL_CAPABILITIES.includes(c as HostCapability)) throw invalidArgument(`${file}: unknown capability ${JSON.stringify(c)}`);
  }
  return list as HostCapability[];
}

function headersOf(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) out[k] = Array.isArray(v) ? String(v[0]) : String(v);
  return out;
}

function hostFromEntry(url: string, entry: TomlTable, fallback: HostCapability[], dir: string, file: string): RegistryHost {
  const parsed = new URL(url.includes('://') ? url : `https://${url}`);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalidArgument(`${file}: host ${JSON.stringify(url)} must be http or https`);
  const basePath = parsed.pathname.replace(/\/+$/, '');
  const path = entry.override_path === true || basePath.endsWith('/v2') ? basePath : `${basePath}/v2`;
  return {
    scheme: parsed.protocol === 'http:' ? 'http' : 'https',
    host: parsed.host,
    path,
    capabilities: capabilitiesOf(entry.capabilities, fallback, file),
    skipVerify: entry.skip_verify === true,
    ca: stringList(entry.ca, 'ca', file).map((p) => (isAbsolute(p) ? p : join(dir, p))),
    header: headersOf(entry.header),
  };
}

/** Parses one hosts.toml: `[host."…"]` entries in file order, then the `server` (default: the domain). */
export function parseHostsToml(text: string, domain: string, dir: string, file: string): RegistryHost[] {
  let doc: TomlTable;
  try {
    doc = TOML.parse(text) as TomlTable;
  } catch (err) {
    throw invalidArgument(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const hostTable = (doc.host ?? {}) as Record<string, TomlTable>;
  const mirrors = Object.entries(hostTable).map(([url, entry]) => hostFromEntry(url, entry, MIRROR_CAPABILITIES, dir, file));
  const server =
    typeof doc.server === 'string'
      ? hostFromEntry(doc.server, doc, ALL_CAPABILITIES, dir, file)
      : { ...defaultRegistryHost(domain), ...(doc.skip_verify === true && { skipVerify: true }) };
  return [...mirrors, server];
}

/** The hosts to try for a registry domain, in order; with no configuration, the domain itself. */
export async function registryHosts(configPath: string, domain: string): Promise<RegistryHost[]> {
  const dir = configPath === '' ? undefined : await findHostDirectory(configPath, domain);
  if (dir === undefined) return [defaultRegistryHost(domain)];
  const file = join(dir, 'hosts.toml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [defaultRegistryHost(domain)];
    throw wrap(err, `read ${file}`);
  }
  return parseHostsToml(text, domain, dir, file);
}

export function hostUrl(host: RegistryHost, suffix: string): URL {
  return new URL(`${host.scheme}://${host.host}${host.path}${suffix}`);
}
