// Registry hosts in containerd's `config_path` layout: `<dir>/<host>/hosts.toml` (or
// `<host>_<port>_`, then `_default`) lists mirrors tried in order, then the upstream `server`.
// Without config_path, containerd 1.x's inline `registry.mirrors` give the endpoints; its inline
// `registry.configs` add credentials and TLS settings per endpoint host either way.
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import TOML from '@iarna/toml';
import { invalidArgument, wrap } from '../errors.ts';
import type { RegistryHostConfig } from '../config/model.ts';
import { credentialsFor, type Credentials } from './registry-auth.ts';

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
  /** mTLS client certificate and key files (one PEM holding both when key is ""). */
  client: Array<{ cert: string; key: string }>;
  /** Credentials for this host when the pull brings none (inline `registry.configs`). */
  credentials?: Credentials;
}

/** containerd 1.x's inline registry settings. */
export interface InlineRegistry {
  mirrors: Record<string, string[]>;
  configs: Record<string, RegistryHostConfig>;
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
    client: [],
  };
}

/** containerd's directory name for a host with a port: `host:5000` → `host_5000_`. */
function hostDirectoryNames(domain: string): string[] {
  const colon = domain.lastIndexOf(':');
  const withPort = colon > 0 ? `${domain.slice(0, colon)}_${domain.slice(colon + 1)}_` : domain;
  return withPort === domain ? [domain] : [withPort, domain];
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
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
    if (!ALL_CAPABILITIES.includes(c as HostCapability))
      throw invalidArgument(`${file}: unknown capability ${JSON.stringify(c)}`);
  }
  return list as HostCapability[];
}

function headersOf(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) out[k] = Array.isArray(v) ? String(v[0]) : String(v);
  return out;
}

function hostFromEntry(
  url: string,
  entry: TomlTable,
  fallback: HostCapability[],
  dir: string,
  file: string,
): RegistryHost {
  const parsed = new URL(url.includes('://') ? url : `https://${url}`);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw invalidArgument(`${file}: host ${JSON.stringify(url)} must be http or https`);
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
    client: clientCerts(entry.client, dir, file),
  };
}

/** hosts.toml `client`: "both.pem", ["cert.pem", "key.pem"], or a list of such pairs. */
function clientCerts(value: unknown, dir: string, file: string): Array<{ cert: string; key: string }> {
  if (value === undefined) return [];
  const abs = (p: string) => (p === '' || isAbsolute(p) ? p : join(dir, p));
  const pair = (v: unknown) => {
    const [cert = '', key = ''] = stringList(v, 'client', file);
    return { cert: abs(cert), key: abs(key) };
  };
  if (Array.isArray(value) && value.some(Array.isArray)) return value.map(pair);
  return [pair(value)];
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
  const mirrors = Object.entries(hostTable).map(([url, entry]) =>
    hostFromEntry(url, entry, MIRROR_CAPABILITIES, dir, file),
  );
  const server =
    typeof doc.server === 'string'
      ? hostFromEntry(doc.server, doc, ALL_CAPABILITIES, dir, file)
      : { ...defaultRegistryHost(domain), ...(doc.skip_verify === true && { skipVerify: true }) };
  return [...mirrors, server];
}

/** The hosts to try for a registry domain, in order; with no configuration, the domain itself. */
export async function registryHosts(
  configPath: string,
  domain: string,
  inline: InlineRegistry = { mirrors: {}, configs: {} },
): Promise<RegistryHost[]> {
  const hosts =
    configPath === '' ? inlineMirrorHosts(inline.mirrors, domain) : await configPathHosts(configPath, domain);
  return hosts.map((h) => withInlineConfig(h, inline.configs[h.host], domain));
}

/** containerd 1.x: the domain's mirror endpoints (or "*"'s), then the domain unless an endpoint is it. */
function inlineMirrorHosts(mirrors: Record<string, string[]>, domain: string): RegistryHost[] {
  const upstream = defaultRegistryHost(domain);
  const endpoints = mirrors[domain] ?? mirrors['*'] ?? [];
  const hosts = endpoints.map((e): RegistryHost => {
    const url = new URL(e.includes('://') ? e : `${LOOPBACK.test(e) ? 'http' : 'https'}://${e}`);
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw invalidArgument(`registry.mirrors."${domain}": endpoint ${JSON.stringify(e)} must be http or https`);
    const path = url.pathname === '/' || url.pathname === '' ? '/v2' : url.pathname;
    return {
      ...upstream,
      scheme: url.protocol === 'http:' ? 'http' : 'https',
      host: url.host,
      path,
      capabilities: MIRROR_CAPABILITIES,
    };
  });
  return hosts.some((h) => h.host === domain || h.host === upstream.host) ? hosts : [...hosts, upstream];
}

function withInlineConfig(host: RegistryHost, config: RegistryHostConfig | undefined, domain: string): RegistryHost {
  if (!config) return host;
  const { tls, auth } = config;
  const credentials =
    auth &&
    credentialsFor(
      { ...auth, identity_token: auth.identitytoken, server_address: '', registry_token: '' },
      host.host,
      domain,
    );
  return {
    ...host,
    ...(tls && {
      skipVerify: host.skipVerify || tls.insecure_skip_verify,
      ca: tls.ca_file ? [...host.ca, tls.ca_file] : host.ca,
      client: tls.cert_file ? [...host.client, { cert: tls.cert_file, key: tls.key_file }] : host.client,
    }),
    ...(credentials && { credentials }),
  };
}

async function configPathHosts(configPath: string, domain: string): Promise<RegistryHost[]> {
  const dir = await findHostDirectory(configPath, domain);
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
