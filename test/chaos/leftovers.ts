// After chaos: everything crid holds must be removable through the CRI, and then nothing of it may
// remain on the host (processes, mounts, netns, veths, IP allocations, shim sockets, directories).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { instanceNetnsPrefix, listNetns } from '../../src/network/netns.ts';
import { processGone, type PodEnv } from '../helpers/pod-env.ts';
import { processStart, type ChaosReport } from './driver.ts';

const SHIM_NAMESPACE = 'k8s.io';
const SHIM_SOCKET_DIR = '/run/containerd/s';

/**
 * Removes every container and pod crid lists, until it lists none; returns each removal that failed
 * (none may: anything crid holds must be removable).
 */
export async function removeEverything(env: PodEnv): Promise<string[]> {
  const failed: string[] = [];
  const attempt = (what: string, call: Promise<unknown>) =>
    call.catch((err: { code?: number; details?: string; message?: string }) =>
      failed.push(`${what}: ${err.code ?? ''} ${err.details ?? err.message}`),
    );
  for (let round = 0; round < 3; round++) {
    const { containers } = await env.client.runtime.ListContainers({});
    const { items: pods } = await env.client.runtime.ListPodSandbox({});
    if (containers.length === 0 && pods.length === 0) break;
    for (const c of containers as Array<{ id: string }>)
      await attempt(`RemoveContainer ${c.id}`, env.client.runtime.RemoveContainer({ container_id: c.id }, 60_000));
    for (const p of pods as Array<{ id: string }>) {
      await attempt(`StopPodSandbox ${p.id}`, env.client.runtime.StopPodSandbox({ pod_sandbox_id: p.id }, 60_000));
      await attempt(`RemovePodSandbox ${p.id}`, env.client.runtime.RemovePodSandbox({ pod_sandbox_id: p.id }, 60_000));
    }
  }
  return failed;
}

/** What crid's pods and containers left on the host; empty when nothing. */
export async function leftovers(env: PodEnv, report: ChaosReport): Promise<string[]> {
  return [
    ...(await processesLeft(env, report)),
    ...mountsLeft(env),
    ...(await listNetns(instanceNetnsPrefix(path.join(env.dir, 'state')))).map((ns) => `netns ${ns}`),
    ...(await vethsLeft(env)),
    ...ipAllocationsLeft(env),
    ...shimSocketsLeft(env, report),
    ...dirsLeft(env),
  ];
}

/** The process that has this pid now is the one the run saw (not a later one given the same pid). */
function isSame(report: ChaosReport, pid: number): boolean {
  return processStart(pid) === report.pids.get(pid);
}

function isLive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function processesLeft(env: PodEnv, report: ChaosReport): Promise<string[]> {
  const left = [...report.pids.keys()]
    .filter((pid) => isLive(pid) && isSame(report, pid))
    .map((pid) => `process ${pid}: ${fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()}`);
  const { stdout } = await execa('ps', ['-eo', 'pid=,args='], { reject: false });
  for (const line of stdout.split('\n')) {
    const [pid, ...args] = line.trim().split(/\s+/);
    const command = args.join(' ');
    // crid itself (and its wrapper script) runs on the test's config; everything else naming the test dir is a leftover
    if (
      !command.includes(env.dir) ||
      command.includes(`serve --config ${env.configFile}`) ||
      Number(pid) === process.pid
    )
      continue;
    if (!report.pids.has(Number(pid)) && isLive(Number(pid))) left.push(`process ${pid}: ${command}`);
  }
  return left;
}

function mountsLeft(env: PodEnv): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.includes(env.dir))
    .map((line) => `mount ${line.split(' ')[4]}`);
}

/** The kernel destroys a removed pod's netns, and the veth end in it, asynchronously: up to 2 s is allowed. */
async function vethsLeft(env: PodEnv): Promise<string[]> {
  let stdout = '';
  for (const deadline = Date.now() + 2_000; ; await new Promise((r) => setTimeout(r, 50))) {
    const show = await execa('ip', ['-o', 'link', 'show', 'master', env.cni.bridge], { reject: false });
    if (show.exitCode !== 0) return [];
    stdout = show.stdout;
    if (!stdout.trim() || Date.now() > deadline) break;
  }
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => `veth on ${env.cni.bridge}: ${line.split(':')[1]!.trim()}`);
}

function ipAllocationsLeft(env: PodEnv): string[] {
  const dir = path.join(env.cni.ipamDir, env.cni.networkName);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f !== 'lock' && !f.startsWith('last_reserved_ip'))
    .map((ip) => `IP allocation ${ip}: ${fs.readFileSync(path.join(dir, ip), 'utf8').split('\n')[0]}`);
}

/** containerd-shim-runc-v2 names its socket after the sha256 of <-address>/<namespace>/<pod id>. */
export function shimSocketPath(socket: string, podId: string): string {
  return path.join(
    SHIM_SOCKET_DIR,
    createHash('sha256')
      .update(path.join(socket, SHIM_NAMESPACE, podId))
      .digest('hex'),
  );
}

function shimSocketsLeft(env: PodEnv, report: ChaosReport): string[] {
  return [...report.podIds]
    .map((id) => shimSocketPath(env.socket, id))
    .filter((p) => fs.existsSync(p))
    .map((p) => `shim socket ${p}`);
}

function dirsLeft(env: PodEnv): string[] {
  const dirs = [
    'state/tasks/k8s.io',
    'state/io',
    `state/v1-work/${SHIM_NAMESPACE}`,
    'root/store/sandboxes',
    'root/store/containers',
    `runc/${SHIM_NAMESPACE}`,
    `crun/${SHIM_NAMESPACE}`,
    `runc-v1/${SHIM_NAMESPACE}`,
  ];
  return dirs.flatMap((dir) => {
    const full = path.join(env.dir, dir);
    return fs.existsSync(full) ? fs.readdirSync(full).map((entry) => `${dir}/${entry}`) : [];
  });
}

/**
 * Takes away by force what crid could not remove, so that a failed run leaves the machine clean for
 * the next: processes of the pods and containers (also those only their netns knows), mounts under the
 * test dir, the instance's netns, shim sockets and the runtimes' cgroups of those ids. Only after the
 * evidence is collected; every step goes on past what it cannot do.
 */
export async function forceCleanup(env: PodEnv, report: ChaosReport): Promise<void> {
  const bundles = path.join(env.dir, 'state/tasks', SHIM_NAMESPACE);
  const ids = new Set([...report.podIds, ...(fs.existsSync(bundles) ? fs.readdirSync(bundles) : [])]);
  const namespaces = await listNetns(instanceNetnsPrefix(path.join(env.dir, 'state')));
  const pids = new Set([...report.pids.keys()].filter((pid) => isSame(report, pid)));
  for (const id of ids) {
    const pidFile = path.join(bundles, id, 'init.pid');
    if (fs.existsSync(pidFile)) pids.add(Number(fs.readFileSync(pidFile, 'utf8')));
  }
  for (const ns of namespaces) {
    const { stdout } = await execa('ip', ['netns', 'pids', path.basename(ns)], { reject: false });
    for (const pid of stdout.split('\n').filter(Boolean)) pids.add(Number(pid));
  }
  for (const pid of pids) {
    if (!(pid > 0) || pid === env.crid.child.pid || !isLive(pid)) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      continue; // it exited meanwhile
    }
    await processGone(pid);
  }
  for (const mount of mountsLeft(env)
    .map((m) => m.slice('mount '.length))
    .reverse())
    await execa('umount', ['-l', mount], { reject: false });
  for (const ns of namespaces) await execa('ip', ['netns', 'delete', path.basename(ns)], { reject: false });
  for (const id of ids) fs.rmSync(shimSocketPath(env.socket, id), { force: true });
  if (ids.size > 0) {
    const pattern = `.*/(${[...ids].join('|')})`;
    const { stdout } = await execa(
      'find',
      ['/sys/fs/cgroup', '-depth', '-type', 'd', '-regextype', 'egrep', '-regex', pattern],
      { reject: false },
    );
    for (const dir of stdout.split('\n').filter(Boolean)) await fs.promises.rmdir(dir).catch(() => {});
  }
}
