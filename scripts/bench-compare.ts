// crid beside containerd on the same node, the same CRI workloads through both in one run, the two
// daemons side by side and each workload taking turns between them, printed as one table with the
// ratio crid / containerd per row:
//
//   node scripts/bench-compare.ts [--pods N] [--relist-seconds S]
//
// It starts a local registry (pause and busybox images, reached through a hosts.toml tree), a CNI
// bridge network of its own, then crid and Debian's containerd binary, each with a private config,
// socket, root and state under one temp dir. Everything it made is removed on any exit.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { criClient } from '../test/helpers/cri-client.ts';
import { REPO } from '../test/helpers/crid-process.ts';
import { pushTestImages } from '../test/helpers/pod-env.ts';
import { startRegistry } from '../test/helpers/registry.ts';
import { createCniFixture, SYSTEM_CNI_BIN } from '../test/network/cni-fixture.ts';
import {
  CONTAINERD,
  containerdDaemon,
  cridDaemon,
  type Daemon,
  type NodeSetup,
  type StartTimes,
} from './bench/daemons.ts';
import { removeCgroupParent, sweepLeftovers } from './bench/leftovers.ts';
import { percentile, sleep } from './bench/samples.ts';
import {
  cpuMs,
  fill,
  machineBusyMs,
  parallelRuns,
  pullImages,
  relistLoop,
  removeAll,
  rssMiB,
  serialLifecycles,
  turns,
  CONCURRENCY,
  type RelistSamples,
  type SerialSamples,
  type Workload,
} from './bench/workloads.ts';

const { values } = parseArgs({
  options: {
    pods: { type: 'string', default: '100' },
    'relist-seconds': { type: 'string', default: '30' },
  },
});
const N = Number(values.pods);
const RELIST_SECONDS = Number(values['relist-seconds']);
// Lets a daemon finish what a phase started (GC, reaping) before its RSS is read.
const SETTLE_MS = 2000;
// After the last pod is removed: both runtimes give freed heap back to the system some seconds after
// the work stops (V8's memory reducer, Go's scavenger), so the figure is read once that has happened.
const AFTER_CLEANUP_SETTLE_MS = 10_000;
// Serial lifecycles alternate between the runtimes in blocks this long: short enough that both see
// the same machine, long enough that what one leaves to the kernel (a netns being destroyed) is
// rarely counted against the other's CPU.
const SERIAL_BLOCK = 10;

interface Results {
  runP50: number;
  runP95: number;
  podsPerSecond: number;
  createStartP50: number;
  stopRemoveP50: number;
  daemonCpuPerPod: number;
  machineCpuPerPod: number;
  fillMs: number;
  relistP50: number;
  relistP95: number;
  statsP50: number;
  rssIdle: number;
  rssAtN: number;
  rssAfter: number;
  versionMs: number;
  listMs: number;
  readyMs: number;
}

const progress = (who: string, what: string) => console.error(`[${new Date().toISOString()}] ${who}: ${what}`);

/** One runtime's side of the run: its daemon, its client, and what has been measured of it so far. */
interface Side {
  daemon: Daemon;
  w: Workload;
  serial: SerialSamples;
  daemonCpuMs: number;
  machineCpuMs: number;
  parallelMs: number;
  fillMs: number;
  relist: RelistSamples;
  rssIdle: number;
  rssAtN: number;
  rssAfter: number;
  start: StartTimes;
}

function rssOf(side: Side): number {
  return rssMiB(side.daemon.pid()!);
}

/** n split into blocks of at most `size`. */
function blocks(n: number, size: number): number[] {
  return Array.from({ length: Math.ceil(n / size) }, (_, b) => Math.min(size, n - b * size));
}

/**
 * Runs `one` for every block on every side, the sides taking turns block by block in ABBA order, so
 * that a slower minute of the machine weighs on both runtimes alike.
 */
async function inTurns(
  sides: Side[],
  sizes: number[],
  one: (side: Side, size: number, block: number) => Promise<void>,
) {
  for (const [b, size] of sizes.entries()) for (const k of turns(sides.length, b)) await one(sides[k]!, size, b);
}

async function startSide(daemon: Daemon, busyboxImage: string, cgroupParent: string): Promise<Side> {
  progress(daemon.name, 'starting');
  const start = await daemon.start();
  return {
    daemon,
    w: { client: criClient(daemon.socket), busyboxImage, cgroupParent, prefix: daemon.name },
    serial: { run: [], createStart: [], stopRemove: [] },
    daemonCpuMs: 0,
    machineCpuMs: 0,
    parallelMs: 0,
    fillMs: 0,
    relist: { relist: [], listContainerStats: [] },
    rssIdle: 0,
    rssAtN: 0,
    rssAfter: 0,
    start,
  };
}

async function serialBlock(side: Side, size: number, block: number): Promise<void> {
  const pid = side.daemon.pid()!;
  const cpu0 = { daemon: cpuMs(pid), machine: machineBusyMs() };
  const samples = await serialLifecycles({ ...side.w, prefix: `${side.daemon.name}-${block}` }, size);
  side.daemonCpuMs += cpuMs(pid) - cpu0.daemon;
  side.machineCpuMs += machineBusyMs() - cpu0.machine;
  side.serial.run.push(...samples.run);
  side.serial.createStart.push(...samples.createStart);
  side.serial.stopRemove.push(...samples.stopRemove);
}

/** With N pods made by it, stops the daemon and times its start; removes the pods and stops it again. */
async function restart(side: Side): Promise<void> {
  progress(side.daemon.name, `restart with ${N} pods to recover`);
  await fill(side.w, N, 'recover');
  side.w.client.close();
  await side.daemon.stop('SIGTERM');
  side.start = await side.daemon.start(N);
  const client = criClient(side.daemon.socket);
  await removeAll(client);
  client.close();
  await side.daemon.stop('SIGTERM');
}

/** Both runtimes run side by side; each workload goes through both in turns. */
async function compare(
  daemons: Daemon[],
  images: { pauseImage: string; busyboxImage: string },
  cgroupParent: string,
): Promise<Results[]> {
  const sides: Side[] = [];
  for (const daemon of daemons) sides.push(await startSide(daemon, images.busyboxImage, cgroupParent));
  await sleep(SETTLE_MS);
  for (const side of sides) side.rssIdle = rssOf(side);
  for (const side of sides) {
    await pullImages(side.w, [images.pauseImage, images.busyboxImage]);
    await serialLifecycles({ ...side.w, prefix: `${side.daemon.name}-warmup` }, 1);
  }
  const all = (what: string) => progress(daemons.map((d) => d.name).join(' + '), what);
  all(`${N} serial pod lifecycles each, in turns of ${SERIAL_BLOCK}`);
  await inTurns(sides, blocks(N, SERIAL_BLOCK), serialBlock);
  const halves = blocks(N, Math.ceil(N / 2));
  all(`${N} RunPodSandbox at concurrency ${CONCURRENCY} each, in turns of ${halves[0]}`);
  await inTurns(sides, halves, async (side, size, b) => {
    side.parallelMs += await parallelRuns({ ...side.w, prefix: `${side.daemon.name}-${b}` }, size);
  });
  all(`${N} pods with a container at concurrency ${CONCURRENCY} each, in turns of ${halves[0]}`);
  await inTurns(sides, halves, async (side, size, b) => {
    side.fillMs += await fill(side.w, size, `fill-${b}`);
  });
  all(`relist every second for ${RELIST_SECONDS} s, in turns`);
  const relists = await relistLoop(
    sides.map((side) => side.w.client),
    RELIST_SECONDS,
  );
  for (const [k, side] of sides.entries()) side.relist = relists[k]!;
  for (const side of sides) side.rssAtN = rssOf(side);
  all('removing the pods');
  for (const side of sides) await removeAll(side.w.client);
  await sleep(AFTER_CLEANUP_SETTLE_MS);
  for (const side of sides) side.rssAfter = rssOf(side);
  for (const side of sides) await restart(side);
  return sides.map(results);
}

function results(side: Side): Results {
  return {
    runP50: percentile(side.serial.run, 50),
    runP95: percentile(side.serial.run, 95),
    podsPerSecond: (N / side.parallelMs) * 1000,
    createStartP50: percentile(side.serial.createStart, 50),
    stopRemoveP50: percentile(side.serial.stopRemove, 50),
    daemonCpuPerPod: side.daemonCpuMs / N,
    machineCpuPerPod: side.machineCpuMs / N,
    fillMs: side.fillMs,
    relistP50: percentile(side.relist.relist, 50),
    relistP95: percentile(side.relist.relist, 95),
    statsP50: percentile(side.relist.listContainerStats, 50),
    rssIdle: side.rssIdle,
    rssAtN: side.rssAtN,
    rssAfter: side.rssAfter,
    versionMs: side.start.versionMs,
    listMs: side.start.listMs,
    readyMs: side.start.readyMs,
  };
}

/** Whether the runtime answers Status (every call) within 30 s: crid still recovering answers Unavailable. */
async function servesEveryCall(socket: string): Promise<boolean> {
  const client = criClient(socket);
  try {
    for (let i = 0; i < 30; i++) {
      if (
        await client.runtime.Status({}, 1000).then(
          () => true,
          () => false,
        )
      )
        return true;
      await sleep(1000);
    }
    return false;
  } finally {
    client.close();
  }
}

/**
 * Unless its run finished (and removed its pods), removes the runtime's pods through the runtime
 * itself, restarting it if it died; then sweeps what is left.
 */
async function teardown(daemon: Daemon, finished: boolean): Promise<void> {
  if (!finished && daemon.pid() !== undefined) {
    try {
      // Its exit may not be observed yet when a call failed because it died: ask it, not the child handle.
      if (!(await servesEveryCall(daemon.socket))) {
        await daemon.stop('SIGKILL');
        await daemon.start();
      }
      const client = criClient(daemon.socket);
      await removeAll(client);
      client.close();
    } catch (err) {
      console.error(`${daemon.name}: could not remove its pods through CRI:`, err);
    }
  }
  await daemon.stop('SIGTERM');
  await sweepLeftovers(daemon.dir, daemon.runcRoots, daemon.netnsPrefix);
}

interface Row {
  label: string;
  unit: string;
  value: (r: Results) => number;
  digits: number;
}

const ROWS: Row[] = [
  { label: 'RunPodSandbox p50, serial', unit: 'ms', value: (r) => r.runP50, digits: 1 },
  { label: 'RunPodSandbox p95, serial', unit: 'ms', value: (r) => r.runP95, digits: 1 },
  {
    label: `RunPodSandbox at parallel ${CONCURRENCY} (higher is better)`,
    unit: 'pods/s',
    value: (r) => r.podsPerSecond,
    digits: 1,
  },
  { label: 'CreateContainer + StartContainer p50', unit: 'ms', value: (r) => r.createStartP50, digits: 1 },
  {
    label: 'StopPodSandbox + RemovePodSandbox p50 (one running container)',
    unit: 'ms',
    value: (r) => r.stopRemoveP50,
    digits: 1,
  },
  {
    label: 'daemon CPU per serial pod lifecycle (run, container, stop, remove)',
    unit: 'ms',
    value: (r) => r.daemonCpuPerPod,
    digits: 1,
  },
  {
    label: 'whole machine CPU per serial pod lifecycle (daemon, shims, runc, CNI, kernel)',
    unit: 'ms',
    value: (r) => r.machineCpuPerPod,
    digits: 1,
  },
  {
    label: `${N} pods with a running container, concurrency ${CONCURRENCY}`,
    unit: 's',
    value: (r) => r.fillMs / 1000,
    digits: 2,
  },
  { label: `relist p50 at ${N} pods`, unit: 'ms', value: (r) => r.relistP50, digits: 1 },
  { label: `relist p95 at ${N} pods`, unit: 'ms', value: (r) => r.relistP95, digits: 1 },
  { label: `ListContainerStats p50 at ${N} containers`, unit: 'ms', value: (r) => r.statsP50, digits: 1 },
  { label: 'daemon RSS idle', unit: 'MiB', value: (r) => r.rssIdle, digits: 1 },
  { label: `daemon RSS at ${N} pods`, unit: 'MiB', value: (r) => r.rssAtN, digits: 1 },
  { label: 'daemon RSS 10 s after removing them', unit: 'MiB', value: (r) => r.rssAfter, digits: 1 },
  { label: `start to first Version served, ${N} pods to recover`, unit: 'ms', value: (r) => r.versionMs, digits: 0 },
  {
    label: `start to first ListPodSandbox listing the ${N} pods`,
    unit: 'ms',
    value: (r) => r.listMs,
    digits: 0,
  },
  {
    label: `start to first Status served (every call served), ${N} pods`,
    unit: 'ms',
    value: (r) => r.readyMs,
    digits: 0,
  },
];

function table(crid: Results, containerd: Results): string {
  const lines = ['| workload | crid | containerd | crid / containerd |', '|---|---:|---:|---:|'];
  for (const row of ROWS) {
    const a = row.value(crid);
    const b = row.value(containerd);
    lines.push(
      `| ${row.label} | ${a.toFixed(row.digits)} ${row.unit} | ${b.toFixed(row.digits)} ${row.unit} | ${(a / b).toFixed(2)}× |`,
    );
  }
  return lines.join('\n');
}

async function machine(): Promise<string> {
  const first = async (file: string, args: string[]) =>
    (await execa(file, args, { reject: false })).stdout.split('\n')[0];
  return [
    `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}`,
    `Node ${process.version}; ${await first(CONTAINERD, ['--version'])}; ${await first('runc', ['--version'])}`,
    `${N} pods; relist every second for ${RELIST_SECONDS} s, statuses at concurrency ${CONCURRENCY}; RSS is VmRSS of the daemon process alone (no shims)`,
  ].join('\n');
}

function writeHostsToml(root: string, registryAddress: string): void {
  fs.mkdirSync(path.join(root, registryAddress), { recursive: true });
  const hosts = `server = "http://${registryAddress}"\n\n[host."http://${registryAddress}"]\n  capabilities = ["pull", "resolve"]\n`;
  fs.writeFileSync(path.join(root, registryAddress, 'hosts.toml'), hosts);
}

/** Runs the undo steps in reverse once, whether main finishes, throws, or a signal arrives. */
function cleanupStack() {
  const steps: Array<() => Promise<void>> = [];
  let running: Promise<void> | undefined;
  const run = () =>
    (running ??= (async () => {
      for (const step of steps.reverse())
        await step().catch((err: unknown) => console.error('cleanup step failed:', err));
    })());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      console.error(`${signal}: removing what the benchmark made`);
      void run().then(() => process.exit(130));
    });
  }
  return { push: (step: () => Promise<void>) => void steps.push(step), run };
}

async function main(): Promise<void> {
  const cleanup = cleanupStack();
  try {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-bench-'));
    cleanup.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    // crid runs its compiled JavaScript only while that is newer than every source file.
    await execa(path.join(REPO, 'scripts/build'), { stdio: 'inherit' });
    const cgroupParent = `/crid-bench-${process.pid}`;
    cleanup.push(async () => removeCgroupParent(cgroupParent));
    const registry = await startRegistry();
    cleanup.push(() => registry.stop());
    const cni = await createCniFixture();
    cleanup.push(() => cni.dispose());
    const images = await pushTestImages(registry);
    const registryHostsDir = path.join(dir, 'hosts.d');
    writeHostsToml(registryHostsDir, registry.address);
    const node: NodeSetup = {
      dir,
      pauseImage: images.pauseImage,
      cniConfDir: cni.confDir,
      cniBinDirs: [cni.binDir, SYSTEM_CNI_BIN],
      registryHostsDir,
    };
    const daemons = [cridDaemon(node), containerdDaemon(node)];
    let finished = false;
    for (const daemon of daemons) cleanup.push(() => teardown(daemon, finished));
    const [crid, containerd] = await compare(daemons, images, cgroupParent);
    finished = true;
    console.log(await machine());
    console.log();
    console.log(table(crid!, containerd!));
  } finally {
    await cleanup.run();
  }
}

await main();
