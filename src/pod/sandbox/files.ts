// A pod's files on the host: those every pod gets from crid rather than from its image (hostname,
// /etc/hosts, /etc/resolv.conf), written at RunPodSandbox; those, its /dev/shm and its snapshot removed.
import fs from 'node:fs';
import path from 'node:path';
import type { DNSConfig__Output } from '../../generated/runtime/v1/DNSConfig.ts';
import { invalidArgument } from '../../errors.ts';
import { sandboxDir, sandboxShmDir, type PodDeps } from '../deps.ts';
import { removePodShm } from '../shm.ts';

export interface SandboxFiles {
  dir: string;
  hostname: string;
  hosts: string;
  resolvConf: string;
}

export function resolvConf(dns: DNSConfig__Output | null | undefined): string | undefined {
  if (!dns || (dns.servers.length === 0 && dns.searches.length === 0 && dns.options.length === 0)) return undefined;
  const lines: string[] = [];
  if (dns.searches.length) lines.push(`search ${dns.searches.join(' ')}`);
  for (const server of dns.servers) lines.push(`nameserver ${server}`);
  if (dns.options.length) lines.push(`options ${dns.options.join(' ')}`);
  for (const line of lines) {
    if (/[\r\n]/.test(line)) throw invalidArgument('sandbox config: dns_config entries must not contain newlines');
  }
  return `${lines.join('\n')}\n`;
}

const HOSTS = `127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
ff00::0\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
`;

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

/**
 * Writes the files into dir (0755, files 0644) and returns their paths for the spec's bind mounts.
 * Synchronously, as the bundle and the snapshot's directories: a few small local files, where each
 * asynchronous call is a thread-pool round trip that costs more than the write itself.
 */
export function writeSandboxFiles(
  dir: string,
  hostname: string,
  dns: DNSConfig__Output | null | undefined,
  hostNetwork: boolean,
): SandboxFiles {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const files: SandboxFiles = {
    dir,
    hostname: path.join(dir, 'hostname'),
    hosts: path.join(dir, 'hosts'),
    resolvConf: path.join(dir, 'resolv.conf'),
  };
  fs.writeFileSync(files.hostname, `${hostname}\n`, { mode: 0o644 });
  fs.writeFileSync(files.hosts, hostNetwork ? readOr('/etc/hosts', HOSTS) : HOSTS, { mode: 0o644 });
  fs.writeFileSync(files.resolvConf, resolvConf(dns) ?? readOr('/etc/resolv.conf', ''), { mode: 0o644 });
  return files;
}

export function removeSandboxShm(deps: PodDeps, id: string): void {
  removePodShm(sandboxShmDir(deps, id));
}

/** Removes everything of a stopped sandbox that is left on the host: shm, files, snapshot. */
export async function removeSandboxFiles(deps: PodDeps, id: string): Promise<void> {
  removeSandboxShm(deps, id);
  fs.rmSync(sandboxDir(deps.config(), id), { recursive: true, force: true });
  await deps.images.snapshotter.remove(id);
}
