// What one crid instance can leave on the host after its pods are gone: pods it still lists,
// containers in its OCI runtimes' state, shim processes started for it, mounts under its root or
// state, and network namespaces it named. Each instance is told apart by its own directory (shims
// carry its socket path on their command line; its handlers keep their runtime state in it) and by
// its netns prefix.
import fs from 'node:fs';
import { execa } from 'execa';
import { instanceNetnsPrefix, NETNS_DIR } from '../../src/network/netns.ts';
import type { CriClient } from '../helpers/cri-client.ts';

export interface CridInstance {
  /** Holds the socket, root and state of this crid; nothing outside it is searched for mounts. */
  dir: string;
  stateDir: string;
  /** Each handler's OCI runtime and its state root (with the namespace: `<Root>/k8s.io`). */
  runtimeRoots: Array<{ binary: string; root: string }>;
}

interface PodSandboxItem {
  id: string;
  metadata?: { name?: string; namespace?: string };
}

async function listedPods(client: CriClient): Promise<string[]> {
  const { items } = (await client.runtime.ListPodSandbox({})) as { items: PodSandboxItem[] };
  return items.map((p) => `pod ${p.id} (${p.metadata?.namespace}/${p.metadata?.name})`);
}

/** Containers the instance's OCI runtimes still hold, as `<binary> <root> <id>`. */
export async function instanceContainers(
  instance: CridInstance,
): Promise<Array<{ binary: string; root: string; id: string }>> {
  const found: Array<{ binary: string; root: string; id: string }> = [];
  for (const { binary, root } of instance.runtimeRoots) {
    if (!fs.existsSync(root)) continue;
    const { stdout } = await execa(binary, ['--root', root, 'list', '-q'], { reject: false });
    for (const id of stdout.split('\n').filter(Boolean)) found.push({ binary, root, id });
  }
  return found;
}

/** Processes whose command line names the instance's directory (its shims and their children). */
export function instanceProcesses(
  instance: CridInstance,
  exclude: number[] = [],
): Array<{ pid: number; args: string }> {
  const found: Array<{ pid: number; args: string }> = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || exclude.includes(Number(entry)) || Number(entry) === process.pid) continue;
    try {
      const args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (args.includes(instance.dir)) found.push({ pid: Number(entry), args });
    } catch {
      // raced with the process exiting
    }
  }
  return found;
}

/** Mount points at or under the instance's directory, deepest first. */
export function instanceMounts(instance: CridInstance): string[] {
  const points = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .map((point) => point.replace(/\\(\d{3})/g, (_m, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((point) => point === instance.dir || point.startsWith(`${instance.dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

export function instanceNetns(instance: CridInstance): string[] {
  const prefix = instanceNetnsPrefix(instance.stateDir);
  return fs.existsSync(NETNS_DIR) ? fs.readdirSync(NETNS_DIR).filter((name) => name.startsWith(prefix)) : [];
}

/** Everything the instance left behind, one line each; empty when the host is clean. */
export async function leftovers(client: CriClient, instance: CridInstance, cridPid: number): Promise<string[]> {
  return [
    ...(await listedPods(client)),
    ...(await instanceContainers(instance)).map((c) => `container ${c.id} (${c.binary} --root ${c.root})`),
    ...instanceProcesses(instance, [cridPid]).map((p) => `process ${p.pid}: ${p.args}`),
    ...instanceMounts(instance).map((m) => `mount ${m}`),
    ...instanceNetns(instance).map((n) => `netns ${n}`),
  ];
}

/** Leftovers once shims have had the time to exit after their pods went away. */
export async function settledLeftovers(
  client: CriClient,
  instance: CridInstance,
  cridPid: number,
  timeoutMs = 15_000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await leftovers(client, instance, cridPid);
    if (found.length === 0 || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Kills the instance's containers and processes and removes its mounts and namespaces (crid already
 * stopped). Containers go first: a killed shim would leave its containers running.
 */
export async function removeInstanceLeftovers(instance: CridInstance): Promise<void> {
  for (const c of await instanceContainers(instance))
    await execa(c.binary, ['--root', c.root, 'delete', '--force', c.id], { reject: false });
  for (const { pid } of instanceProcesses(instance)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const point of instanceMounts(instance)) await execa('umount', ['-l', point], { reject: false });
  for (const name of instanceNetns(instance)) await execa('ip', ['netns', 'delete', name], { reject: false });
}
