// The long form of the chaos test: `npm run soak -- --minutes 30 [--seed N] [--workers 3] [--kill-crid-every 300]`
// (seconds, on average, between kill -9s of crid).
// Runs the chaos driver for that long, samples crid's RSS every 10 s (first/last/max, per crid
// process too, since kill -9 starts a new one), then checks what the short form checks and exits 1
// on any finding. Needs root and a machine set up by scripts/setup.sh.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { prepareHostForCrun } from '../helpers/host-cgroups.ts';
import { startPodEnv, type PodEnv } from '../helpers/pod-env.ts';
import { runChaos, type ChaosReport } from './driver.ts';
import { forceCleanup, leftovers, removeEverything } from './leftovers.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    seed: { type: 'string', default: process.env.CRID_CHAOS_SEED },
    workers: { type: 'string', default: '3' },
    'kill-crid-every': { type: 'string', default: '300' },
  },
});

interface RssSample {
  pid: number;
  kib: number;
}

function rssKiB(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function sampleRss(env: PodEnv, samples: RssSample[]): NodeJS.Timeout {
  return setInterval(() => {
    const pid = env.crid.child.pid ?? 0;
    const kib = rssKiB(pid);
    if (kib > 0) samples.push({ pid, kib });
  }, 10_000);
}

function rssSummary(samples: RssSample[]): string {
  const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
  const line = (label: string, s: RssSample[]) =>
    s.length === 0
      ? `${label}: no samples`
      : `${label}: first ${mib(s[0]!.kib)}, last ${mib(s.at(-1)!.kib)}, max ${mib(Math.max(...s.map((x) => x.kib)))} (${s.length} samples)`;
  const longest = [...Map.groupBy(samples, (s) => s.pid).values()].sort((a, b) => b.length - a.length)[0] ?? [];
  return `${line('crid RSS, all samples', samples)}\n${line(`crid RSS, longest-lived crid (pid ${longest[0]?.pid})`, longest)}`;
}

async function findings(env: PodEnv, report: ChaosReport): Promise<Record<string, string[]>> {
  if (!report.serving) return { crashes: report.crashes };
  const removalFailures = await removeEverything(env);
  await env.restart('SIGKILL');
  const afterRestart = [
    ...(await env.client.runtime.ListPodSandbox({})).items.map((p: { id: string }) => `pod ${p.id}`),
    ...(await env.client.runtime.ListContainers({})).containers.map((c: { id: string }) => `container ${c.id}`),
  ];
  return { crashes: report.crashes, removalFailures, afterRestart, leftovers: await leftovers(env, report) };
}

async function main(): Promise<number> {
  const seed = Number(values.seed ?? Math.floor(Math.random() * 2 ** 31));
  const minutes = Number(values.minutes);
  console.log(`soak: ${minutes} min, seed ${seed} (replay: CRID_CHAOS_SEED=${seed})`);
  const env = await startPodEnv();
  const samples: RssSample[] = [];
  const sampler = sampleRss(env, samples);
  let report: ChaosReport | undefined;
  try {
    report = await runChaos({
      env,
      seed,
      durationMs: minutes * 60_000,
      workers: Number(values.workers),
      chaosEveryMs: 4_000,
      killCridEveryMs: Number(values['kill-crid-every']) * 1000,
      log: (line) => console.log(`${new Date().toISOString()} ${line}`),
    });
    clearInterval(sampler);
    console.log(
      JSON.stringify(
        { seed, lifecycles: report.lifecycles, actions: report.actions, failures: report.failures },
        null,
        2,
      ),
    );
    console.log(rssSummary(samples));
    const found = Object.entries(await findings(env, report)).filter(([, list]) => list.length > 0);
    for (const [kind, list] of found) console.log(`FINDING ${kind}:\n  ${list.join('\n  ')}`);
    console.log(found.length === 0 ? 'soak: nothing found' : `soak: findings (seed ${seed})`);
    return found.length === 0 ? 0 : 1;
  } finally {
    clearInterval(sampler);
    if (report) await forceCleanup(env, report);
    await env.dispose();
  }
}

const restoreHost = await prepareHostForCrun();
try {
  process.exitCode = await main();
} finally {
  await restoreHost();
}
