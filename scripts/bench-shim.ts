// p50/p95 of a full task lifecycle through crid's shim launcher (start shim → create → start → kill →
// wait → delete → shutdown) for runc and crun via containerd-shim-runc-v2 and runc via the legacy
// containerd-shim, beside the same lifecycle by the runc CLI directly (the floor).
// Run as root: node scripts/bench-shim.ts [N]   (N defaults to 20; CRID_BENCH_N works too)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { RuntimeHandler } from '../src/config/model.ts';
import { ShimHarness, handler } from '../test/shim/harness.ts';
import { testSpec } from '../test/shim/spec.ts';
import { prepareHostForCrun } from '../test/helpers/host-cgroups.ts';

const N = Number(process.argv[2] ?? process.env.CRID_BENCH_N ?? 20);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function timeRuns(n: number, once: (i: number) => Promise<void>): Promise<number[]> {
  const samples: number[] = [];
  await once(-1); // warm-up, not counted
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await once(i);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return samples.sort((a, b) => a - b);
}

async function shimLifecycle(h: ShimHarness, hd: RuntimeHandler, id: string): Promise<void> {
  const { io } = await h.stdio(id);
  const { task } = await h.manager.startTask({
    handler: hd,
    id,
    // An absolute root.path and no rootfs mounts, as for the runc floor.
    spec: { ...testSpec(['/bin/sleep', '300'], h.cgroupsPath(id)), root: { path: h.rootfs } },
    rootfs: [],
    io,
  });
  await task.start(id);
  const exited = h.monitor.waitForExit(id);
  await task.kill(id, 9);
  await exited;
  await task.delete(id);
  await h.manager.removeTask(id);
}

function runcLifecycle(h: ShimHarness, root: string, id: string): Promise<void> {
  const bundle = path.join(h.dir, 'floor', id);
  fs.mkdirSync(bundle, { recursive: true });
  const spec = testSpec(['/bin/sleep', '300'], h.cgroupsPath(id));
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify({ ...spec, root: { path: h.rootfs } }));
  const runc = (...args: string[]) => execFileSync('runc', ['--root', root, ...args], { stdio: 'ignore' });
  runc('run', '-d', '--bundle', bundle, id);
  runc('kill', id, 'KILL');
  runc('delete', '--force', id);
  fs.rmSync(bundle, { recursive: true, force: true });
  return Promise.resolve();
}

async function main(): Promise<void> {
  const socketsBefore = new Set(fs.existsSync('/run/containerd/s') ? fs.readdirSync('/run/containerd/s') : []);
  const h = new ShimHarness();
  await h.start();
  const rows: Array<[string, number[]]> = [];
  try {
    const cases: Array<[string, RuntimeHandler]> = [
      [
        'runc  (containerd-shim-runc-v2)',
        handler('runc', 'io.containerd.runc.v2', {
          options: { BinaryName: 'runc', Root: path.join(h.dir, 'runc-root') },
        }),
      ],
      [
        'crun  (containerd-shim-runc-v2)',
        handler('crun', 'io.containerd.runc.v2', {
          options: { BinaryName: '/usr/bin/crun', Root: path.join(h.dir, 'crun-root') },
        }),
      ],
      [
        'runc  (legacy containerd-shim)',
        handler('legacy', 'io.containerd.runtime.v1.linux', {
          runtime_engine: 'runc',
          runtime_root: path.join(h.dir, 'v1-root'),
        }),
      ],
    ];
    for (const [name, hd] of cases) {
      rows.push([name, await timeRuns(N, (i) => shimLifecycle(h, hd, `${hd.name}-${i + 1}`))]);
    }
    rows.push([
      'runc CLI directly (floor)',
      await timeRuns(N, (i) => runcLifecycle(h, path.join(h.dir, 'floor-root'), `floor-${i + 1}`)),
    ]);
  } finally {
    await h.cleanup();
    for (const sock of fs.existsSync('/run/containerd/s') ? fs.readdirSync('/run/containerd/s') : []) {
      if (!socketsBefore.has(sock)) fs.rmSync(path.join('/run/containerd/s', sock), { force: true });
    }
  }
  const floor = percentile(rows[rows.length - 1]![1], 50);
  console.log(`shim lifecycle, N=${N} (ms)`);
  console.log(`${'path'.padEnd(34)}${'p50'.padStart(9)}${'p95'.padStart(9)}${'p50/floor'.padStart(11)}`);
  for (const [name, samples] of rows) {
    const p50 = percentile(samples, 50);
    console.log(
      `${name.padEnd(34)}${p50.toFixed(1).padStart(9)}${percentile(samples, 95).toFixed(1).padStart(9)}${(p50 / floor).toFixed(2).padStart(10)}x`,
    );
  }
}

// crun refuses hybrid cgroup hosts whose cgroup2 holds controllers: prepare the host as the tests do.
const restoreHost = await prepareHostForCrun();
try {
  await main();
} finally {
  await restoreHost();
}
