// RunPodSandbox → StopPodSandbox → RemovePodSandbox through a CRI endpoint, p50/p95 per handler,
// with and without CNI, serially and at parallelism 8, beside the floor measured in the same run:
// the same pause process started and torn down through the shim without crid (shim start, create,
// start, kill, delete), and the ratio.
//
//   node scripts/bench-pods.ts [--pods N] [--handlers runc,crun,runc-v1] [--endpoint unix:///path]
//
// Without --endpoint it starts its own crid, registry and CNI network (as the tests do). With
// --endpoint it measures that runtime (crid or another); the pods then use its default network.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { criClient, type CriClient } from '../test/helpers/cri-client.ts';
import { startPodEnv, type PodEnv } from '../test/helpers/pod-env.ts';
import { ShimHarness, handler } from '../test/shim/harness.ts';
import { testSpec } from '../test/shim/spec.ts';
import { prepareHostForCrun } from '../test/helpers/host-cgroups.ts';

const { values } = parseArgs({
  options: {
    pods: { type: 'string', default: '100' },
    handlers: { type: 'string', default: 'runc,crun,runc-v1' },
    endpoint: { type: 'string' },
    parallel: { type: 'string', default: '8' },
  },
});
const N = Number(values.pods);
const PARALLEL = Number(values.parallel);
const HANDLERS = values.handlers!.split(',');

interface Figures {
  p50: number;
  p95: number;
  total: number;
}

function figures(samples: number[], totalMs: number): Figures {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { p50: at(50), p95: at(95), total: totalMs };
}

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function runMany(n: number, parallel: number, one: (i: number) => Promise<number>): Promise<Figures> {
  const samples: number[] = [];
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n) samples.push(await one(next++));
    }),
  );
  return figures(samples, Number(process.hrtime.bigint() - t0) / 1e6);
}

let counter = 0;
function podLifecycle(client: CriClient, handlerName: string, hostNetwork: boolean) {
  return () =>
    timed(async () => {
      const name = `bench-${process.pid}-${counter++}`;
      const config = {
        metadata: { name, namespace: 'crid-bench', uid: `uid-${name}`, attempt: 0 },
        linux: hostNetwork ? { security_context: { namespace_options: { network: 'NODE' as const } } } : {},
      };
      const { pod_sandbox_id: id } = await client.runtime.RunPodSandbox({ config, runtime_handler: handlerName });
      await client.runtime.StopPodSandbox({ pod_sandbox_id: id });
      await client.runtime.RemovePodSandbox({ pod_sandbox_id: id });
    });
}

async function floor(h: ShimHarness, handlerName: string, root: string) {
  const hd =
    handlerName === 'runc-v1'
      ? handler('floor-v1', 'io.containerd.runtime.v1.linux', { runtime_engine: 'runc', runtime_root: root })
      : handler('floor', 'io.containerd.runc.v2', { options: { BinaryName: handlerName, Root: root } });
  return () =>
    timed(async () => {
      const id = `floor-${counter++}`;
      const { task } = await h.manager.startTask({
        handler: hd,
        id,
        spec: { ...testSpec(['/pause', '-P'], h.cgroupsPath(id)), root: { path: h.rootfs } },
        rootfs: [],
        io: { stdin: '', stdout: '', stderr: '', terminal: false },
      });
      await task.start(id);
      const exited = h.monitor.waitForExit(id);
      await task.kill(id, 9);
      await exited;
      await h.manager.removeTask(id);
    });
}

function rssKiB(pid: number): number {
  return Number(/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

/** crid's own memory with no pods and with `count` pods held at once, beside what their shims take. */
async function memory(cri: CriClient, cridPid: number, count: number): Promise<void> {
  const idle = rssKiB(cridPid);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `bench-mem-${process.pid}-${i}`;
    const config = {
      metadata: { name, namespace: 'crid-bench', uid: name, attempt: 0 },
      linux: { security_context: { namespace_options: { network: 'NODE' as const } } },
    };
    ids.push((await cri.runtime.RunPodSandbox({ config, runtime_handler: 'runc' })).pod_sandbox_id);
  }
  const loaded = rssKiB(cridPid);
  const shimPids = await Promise.all(
    ids.map(
      async (id) =>
        JSON.parse((await cri.runtime.PodSandboxStatus({ pod_sandbox_id: id, verbose: true })).info.info)
          .shimPid as number,
    ),
  );
  const shimKiB = shimPids.reduce((sum, pid) => sum + rssKiB(pid), 0) / shimPids.length;
  for (const id of ids) await cri.runtime.RemovePodSandbox({ pod_sandbox_id: id });
  console.log(
    `crid RSS: ${(idle / 1024).toFixed(1)} MiB idle, ${(loaded / 1024).toFixed(1)} MiB with ${count} pods ` +
      `(+${((loaded - idle) / count).toFixed(0)} KiB per pod); each pod's own shim: ${(shimKiB / 1024).toFixed(1)} MiB RSS`,
  );
}

const fmt = (f: Figures) => `${f.p50.toFixed(1).padStart(7)} ${f.p95.toFixed(1).padStart(7)}`;

async function main(): Promise<void> {
  let env: PodEnv | undefined;
  const client = values.endpoint ? criClient(values.endpoint.replace(/^unix:\/\//, '')) : undefined;
  if (!client) env = await startPodEnv();
  const cri = client ?? env!.client;
  const h = new ShimHarness();
  await h.start();
  fs.copyFileSync('/usr/bin/catatonit', path.join(h.rootfs, 'pause'));
  fs.chmodSync(path.join(h.rootfs, 'pause'), 0o755);
  try {
    console.log(
      `pods per figure: ${N}; times in ms (p50 p95); floor = shim start+create+start+kill+delete of the same pause process without crid`,
    );
    console.log('handler   network  mode        crid p50    p95 | floor p50    p95 | ratio p50');
    for (const name of HANDLERS) {
      const floorFig = await runMany(Math.min(N, 50), 1, await floor(h, name, path.join(h.dir, `floor-${name}`)));
      for (const hostNetwork of [true, false]) {
        for (const parallel of [1, PARALLEL]) {
          await podLifecycle(cri, name, hostNetwork)(); // warm-up
          const fig = await runMany(N, parallel, podLifecycle(cri, name, hostNetwork));
          const mode = parallel === 1 ? 'serial' : `parallel ${parallel}`;
          console.log(
            `${name.padEnd(9)} ${(hostNetwork ? 'host' : 'CNI').padEnd(8)} ${mode.padEnd(11)} ${fmt(fig)} | ${fmt(floorFig)} | ${(fig.p50 / floorFig.p50).toFixed(2)}x` +
              (parallel > 1 ? `  (${((N / fig.total) * 1000).toFixed(1)} pods/s)` : ''),
          );
        }
      }
    }
    if (env?.crid.child.pid) await memory(cri, env.crid.child.pid, Math.min(N, 50));
  } finally {
    await h.cleanup();
    client?.close();
    await env?.dispose();
  }
}

// crun refuses hybrid cgroup hosts whose cgroup2 holds controllers: prepare the host as the tests do.
const restoreHost = await prepareHostForCrun();
try {
  await main();
} finally {
  await restoreHost();
}
