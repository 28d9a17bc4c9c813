// The short form of the chaos test (the long form is `npm run soak`): about a minute of kubelet-shaped
// loops on every handler while crid is SIGKILLed, clients vanish mid-call and shims and pause
// processes are killed. Then crid must serve, everything it lists must be removable, and nothing may
// be left. The seed is printed; CRID_CHAOS_SEED=<seed> replays a run's choices. When the run fails,
// the logs of every crid it started are kept in one file whose path is printed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it, onTestFailed } from 'vitest';
import { podConfig, startPodEnv, type PodEnv } from '../helpers/pod-env.ts';
import { runChaos, type ChaosReport } from './driver.ts';
import { forceCleanup, leftovers, removeEverything, shimSocketPath } from './leftovers.ts';

let env: PodEnv;
let report: ChaosReport | undefined;
let failed = false;

beforeAll(async () => {
  env = await startPodEnv();
}, 180_000);

afterAll(async () => {
  if (failed) keepLogs();
  if (report) await forceCleanup(env, report);
  await env?.dispose();
}, 180_000);

it('a v2 shim socket is where the leftover check looks for it', async () => {
  const { pod_sandbox_id: id } = await env.client.runtime.RunPodSandbox({ config: podConfig('chaos-probe') });
  expect(fs.existsSync(shimSocketPath(env.socket, id))).toBe(true);
  await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: id });
  expect(fs.existsSync(shimSocketPath(env.socket, id))).toBe(false);
});

/** The test dir goes with dispose(): crid's logs (the earlier crids' and the running one's) go to the temp dir. */
function keepLogs(): void {
  const earlier = path.join(env.dir, 'crid.log');
  const kept = path.join(os.tmpdir(), `crid-chaos-${report?.seed ?? 'probe'}-${process.pid}.log`);
  fs.writeFileSync(kept, (fs.existsSync(earlier) ? fs.readFileSync(earlier, 'utf8') : '') + env.crid.stderr());
  console.log(`crid's logs of the failed run: ${kept}`);
}

it('survives a minute of chaos: crid serves, everything is removable, nothing is left', async () => {
  onTestFailed(() => {
    failed = true;
  });
  const seed = Number(process.env.CRID_CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`chaos seed ${seed} (replay: CRID_CHAOS_SEED=${seed})`);
  report = await runChaos({
    env,
    seed,
    durationMs: 60_000,
    workers: 3,
    chaosEveryMs: 4_000,
    killCridEveryMs: 12_000,
    log: (line) => console.log(line),
  });
  console.log(
    JSON.stringify(
      { seed, lifecycles: report.lifecycles, actions: report.actions, failures: report.failures },
      null,
      2,
    ),
  );
  if (!report.serving) throw new Error(`crid could not be started again (seed ${seed}):\n${report.crashes.join('\n')}`);

  const version = await env.client.runtime.Version({});
  const removalFailures = await removeEverything(env);
  // a restart must bring nothing back
  await env.restart('SIGKILL');
  const afterRestart = [
    ...(await env.client.runtime.ListPodSandbox({})).items.map((p: { id: string }) => `pod ${p.id}`),
    ...(await env.client.runtime.ListContainers({})).containers.map((c: { id: string }) => `container ${c.id}`),
  ];
  expect({
    seed,
    runtime: version.runtime_name,
    crashes: report.crashes,
    removalFailures,
    afterRestart,
    leftovers: await leftovers(env, report),
  }).toEqual({ seed, runtime: 'crid', crashes: [], removalFailures: [], afterRestart: [], leftovers: [] });
  expect(report.lifecycles.completed).toBeGreaterThan(0);
}, 600_000);
