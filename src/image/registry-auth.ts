// Registry authentication: the WWW-Authenticate challenge (Basic or Bearer token service) and the
// credentials kubelet passes in PullImageRequest.auth.
import type { AuthConfig__Output } from '../generated/runtime/v1/AuthConfig.ts';
import { invalidArgument } from '../errors.ts';

export interface Credentials {
  username?: string;
  password?: string;
  /** OAuth2 refresh token exchanged at the token service (docker's identity token). */
  identityToken?: string;
  /** A bearer token sent as is. */
  registryToken?: string;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="…",service="…",scope="…"` (one challenge; quoted values may hold commas). */
export function parseChallenge(header: string): Challenge | undefined {
  const match = /^\s*([A-Za-z][\w-]*)\s*(.*)$/s.exec(header);
  if (match === null) return undefined;
  const params: Record<string, string> = {};
  const param = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?\s*/gy;
  const rest = match[2]!;
  while (param.lastIndex < rest.length) {
    const m = param.exec(rest);
    if (m === null) break;
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
  }
  return { scheme: match[1]!.toLowerCase(), params };
}

function decodeAuthField(auth: string): { username: string; password: string } {
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw invalidArgument('auth.auth is not base64 of "username:password"');
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function serverHost(serverAddress: string): string {
  try {
    return new URL(serverAddress.includes('://') ? serverAddress : `https://${serverAddress}`).host;
  } catch {
    return serverAddress;
  }
}

/**
 * The credentials of a CRI AuthConfig for one registry host. Like containerd, an auth whose
 * server_address names another host is not sent to this one.
 */
export function credentialsFor(
  auth: AuthConfig__Output | null | undefined,
  host: string,
  domain: string,
): Credentials | undefined {
  if (!auth) return undefined;
  if (auth.server_address !== '') {
    const server = serverHost(auth.server_address);
    const aliases = domain === 'docker.io' ? ['docker.io', 'index.docker.io', 'registry-1.docker.io'] : [];
    if (server !== host && server !== domain && !aliases.includes(server)) return undefined;
  }
  if (auth.registry_token !== '') return { registryToken: auth.registry_token };
  if (auth.identity_token !== '') return { identityToken: auth.identity_token };
  if (auth.username !== '') return { username: auth.username, password: auth.password };
  if (auth.auth !== '') return decodeAuthField(auth.auth);
  return undefined;
}

export function basicAuthorization(creds: Credentials): string | undefined {
  if (creds.username === undefined) return undefined;
  return `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`;
}
