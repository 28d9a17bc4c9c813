// Reading what a CNI ADD returned: the pod's IP addresses.
import { isIPv4 } from 'node:net';

/** A plugin's result as decoded JSON (0.3.0 and later; `ip4`/`ip6` of 0.1/0.2 are read too). */
export type CniResult = Record<string, unknown>;

interface ResultIp {
  address?: unknown;
  interface?: unknown;
}

interface ResultInterface {
  sandbox?: unknown;
}

function sandboxIps(result: CniResult): string[] {
  const interfaces = Array.isArray(result.interfaces) ? (result.interfaces as ResultInterface[]) : [];
  const ips = Array.isArray(result.ips) ? (result.ips as ResultIp[]) : [];
  // An IP bound to a host-side interface (no `sandbox`) is not the pod's.
  const inSandbox = (ip: ResultIp) => typeof ip.interface !== 'number' || Boolean(interfaces[ip.interface]?.sandbox);
  return ips.filter(inSandbox).map((ip) => String(ip.address ?? ''));
}

function legacyIps(result: CniResult): string[] {
  return [result.ip4, result.ip6]
    .map((v) => (typeof v === 'object' && v !== null ? String((v as { ip?: unknown }).ip ?? '') : ''))
    .filter((a) => a !== '');
}

/** The pod's addresses without prefix length, IPv4 first, each once. */
export function podIps(result: CniResult): string[] {
  const addresses = [...sandboxIps(result), ...legacyIps(result)]
    .map((cidr) => cidr.split('/')[0] ?? '')
    .filter((a) => a !== '');
  const unique = [...new Set(addresses)];
  return [...unique.filter((a) => isIPv4(a)), ...unique.filter((a) => !isIPv4(a))];
}
