// The two CRI runtimes bench-compare measures, each with a private config, socket, root and state
// under the run's temp dir: crid (started as the integration tests start it) and Debian's containerd
// binary. Both get the same CNI network, registry hosts dir, sandbox image and runc handler.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { criClient } from '../../test/helpers/cri-client.ts';
import { startCrid, type CridProcess } from '../../test/helpers/crid-process.ts';
import { nowMs, sleep } from './samples.ts';
import { instanceNetnsPrefix } from '../../src/network/netns.ts';

export const CONTAINERD = '/usr/bin/containerd';
const CRI = 'plugins."io.containerd.grpc.v1.cri"';

/** What both runtimes share: the pod network, the registry and its hosts.toml tree. */
export interface NodeSetup {
  dir: string;
  pauseImage: string;
  cniConfDir: string;
  cniBinDirs: string[];
  registryHostsDir: string;
}

export interface Daemon {
  name: 'crid' | 'containerd';
  socket: string;
  /** Directory holding everything this runtime writes (root, state, runc root). */
  dir: string;
  /** runc --root directories the runtime's shims use, for the leftover sweep. */
  runcRoots: string[];
  /** Names of the network namespaces in /run/netns the runtime makes ('' when it keeps them in `dir`). */
  netnsPrefix: string;
  pid(): number | undefined;
  running(): boolean;
  /**
   * Spawns the daemon; resolves with the ms from spawn to the first Version it answers, to the
   * first ListPodSandbox that lists `pods` pods and to the first Status (every call served).
   */
  start(pods?: number): Promise<StartTimes>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartTimes {
  versionMs: number;
  /** A runtime lists its pods once it has recovered them (crid: loaded their records). */
  listMs: number;
  /** crid answers Status once its recovery is done; containerd serves CRI only then. */
  readyMs: number;
}

/** Polls Version, then ListPodSandbox, with a fresh client each time (grpc-js backs off reconnects to a missing socket). */
async function untilServing(
  socket: string,
  alive: () => boolean,
  describe: () => string,
  t0: number,
  pods: number,
): Promise<StartTimes> {
  const versionMs = await untilAnswered(socket, alive, describe, t0, (client) => client.runtime.Version({}, 1000));
  const listMs = await untilAnswered(socket, alive, describe, t0, async (client) => {
    const { items }: { items: unknown[] } = await client.runtime.ListPodSandbox({}, 1000);
    if (items.length < pods) throw new Error(`${items.length} of ${pods} pods listed`);
  });
  const readyMs = await untilAnswered(socket, alive, describe, t0, (client) => client.runtime.Status({}, 1000));
  return { versionMs, listMs, readyMs };
}

async function untilAnswered(
  socket: string,
  alive: () => boolean,
  describe: () => string,
  t0: number,
  ask: (client: ReturnType<typeof criClient>) => Promise<unknown>,
): Promise<number> {
  const deadline = t0 + 60_000;
  while (nowMs() < deadline) {
    if (!alive()) throw new Error(`runtime exited before serving Version: ${describe()}`);
    if (fs.existsSync(socket)) {
      const client = criClient(socket);
      const ok = await ask(client).then(
        () => true,
        () => false,
      );
      client.close();
      if (ok) return nowMs() - t0;
    }
    await sleep(5);
  }
  throw new Error(`runtime on ${socket} did not answer within 60 s: ${describe()}`);
}

/**
 * The CRI plugin tables both daemons get; containerd 1.6 knows only the one CNI bin_dir. containerd
 * keeps its netns under its state dir (`criExtra`), so the leftover sweep finds them there.
 */
function criTables(node: NodeSetup, dir: string, cniBin: string, criExtra = ''): string {
  return `[${CRI}]
  sandbox_image = "${node.pauseImage}"
  restrict_oom_score_adj = true
  ${criExtra}
[${CRI}.containerd]
  default_runtime_name = "runc"
[${CRI}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
  [${CRI}.containerd.runtimes.runc.options]
    BinaryName = "runc"
    Root = "${dir}/runc"
[${CRI}.cni]
  ${cniBin}
  conf_dir = "${node.cniConfDir}"
  max_conf_num = 1
[${CRI}.registry]
  config_path = "${node.registryHostsDir}"
`;
}

function cridToml(node: NodeSetup, dir: string): string {
  return `version = 2
${criTables(node, dir, `bin_dirs = ${JSON.stringify(node.cniBinDirs)}`)}[crid]
  root = "${dir}/root"
  state = "${dir}/state"
  metrics_address = ""
`;
}

export function cridDaemon(node: NodeSetup): Daemon {
  const dir = path.join(node.dir, 'crid');
  fs.mkdirSync(dir);
  const configFile = path.join(dir, 'crid.toml');
  fs.writeFileSync(configFile, cridToml(node, dir));
  const socket = path.join(dir, 'crid.sock');
  let proc: CridProcess | undefined;
  const running = () => proc !== undefined && proc.child.exitCode === null && proc.child.signalCode === null;
  return {
    name: 'crid',
    socket,
    dir,
    runcRoots: [path.join(dir, 'runc'), path.join(dir, 'runc', 'k8s.io')],
    netnsPrefix: instanceNetnsPrefix(path.join(dir, 'state')),
    pid: () => proc?.child.pid,
    running,
    async start(pods = 0) {
      const t0 = nowMs();
      const p = startCrid(configFile, socket);
      proc = p;
      return untilServing(socket, running, () => p.stderr().slice(-4000), t0, pods);
    },
    async stop(signal = 'SIGTERM') {
      await proc?.stop(signal);
    },
  };
}

// The `opt` plugin would install into /opt/containerd on the host; the other snapshotters are unused.
const DISABLED_PLUGINS = [
  'io.containerd.internal.v1.opt',
  'io.containerd.snapshotter.v1.aufs',
  'io.containerd.snapshotter.v1.btrfs',
  'io.containerd.snapshotter.v1.devmapper',
  'io.containerd.snapshotter.v1.zfs',
];

function containerdToml(node: NodeSetup, dir: string, socket: string): string {
  return `version = 2
root = "${dir}/root"
state = "${dir}/state"
disabled_plugins = ${JSON.stringify(DISABLED_PLUGINS)}
[grpc]
  address = "${socket}"
[ttrpc]
  address = "${socket}.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
${criTables(node, dir, `bin_dir = "${node.cniBinDirs.at(-1)}"`, 'netns_mounts_under_state_dir = true')}`;
}

export function containerdDaemon(node: NodeSetup): Daemon {
  const dir = path.join(node.dir, 'containerd');
  fs.mkdirSync(dir);
  const socket = path.join(dir, 'containerd.sock');
  const configFile = path.join(dir, 'config.toml');
  fs.writeFileSync(configFile, containerdToml(node, dir, socket));
  let child: ChildProcess | undefined;
  let log = '';
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  return {
    name: 'containerd',
    socket,
    dir,
    runcRoots: [path.join(dir, 'runc'), path.join(dir, 'runc', 'k8s.io')],
    netnsPrefix: '',
    pid: () => child?.pid,
    running,
    async start(pods = 0) {
      const t0 = nowMs();
      child = spawn(CONTAINERD, ['--config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-16_000)));
      return untilServing(socket, running, () => log.slice(-4000), t0, pods);
    },
    async stop(signal = 'SIGTERM') {
      const c = child;
      if (!c || !running()) return;
      const exited = new Promise((resolve) => c.once('exit', resolve));
      c.kill(signal);
      const timer = setTimeout(() => c.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
