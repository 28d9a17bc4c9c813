// max_container_log_line_size: a longer line becomes partial (P) records, the last piece full (F).
import { afterAll, beforeAll, expect, it } from 'vitest';
import fs from 'node:fs';
import { startPodEnv, type PodEnv } from '../helpers/pod-env.ts';
import { containerConfig, logFile, logRecords, runContainer, runPod, waitExited } from './container-env.ts';

let env: PodEnv;

beforeAll(async () => {
  env = await startPodEnv();
  const config = fs
    .readFileSync(env.configFile, 'utf8')
    .replace('restrict_oom_score_adj = true', 'restrict_oom_score_adj = true\n  max_container_log_line_size = 8');
  fs.writeFileSync(env.configFile, config);
  await env.restart();
  await env.client.image.PullImage({ image: { image: env.busyboxImage } });
}, 180_000);

afterAll(async () => {
  await env?.dispose();
}, 120_000);

it('splits lines longer than the configured size', async () => {
  const pod = await runPod(env, 'lines', 'runc');
  const id = await runContainer(env, pod, containerConfig(env, 'long', 'echo 0123456789abcdef; echo short'));
  await waitExited(env, id);
  const records = logRecords(fs.readFileSync(logFile(pod, 'long'), 'utf8')).map(([, tag, text]) => [tag, text]);
  expect(records).toEqual([
    ['P', '01234567'],
    ['F', '89abcdef'],
    ['F', 'short'],
  ]);
});
