// p50/p95 of CreateContainer, StartContainer, StopContainer and RemoveContainer through a CRI socket,
// for N containers spread over a few pods, serially and at parallelism 8.
// Run as root: node scripts/bench-containers.ts [-n N] [--endpoint unix:///path] [--image REF] [--handler NAME]
// Without --endpoint it starts its own crid, registry and CNI network (as the pod tests do) and
// uses their busybox image; with --endpoint, --image must name an image with /bin/sh that the
// runtime can pull.
import { parseArgs } from 'node:util';
import { criClient, type CriClient } from '../test/helpers/cri-client.ts';
import { podConfig, startPodEnv, type PodEnv } from '../test/helpers/pod-env.ts';
import { prepareHostForCrun } from '../test/helpers/host-cgroups.ts';

const OPS = ['create', 'start', 'stop', 'remove'] as const;
type Op = (typeof OPS)[number];
type Samples = Record<Op, number[]>;

const PODS = 4;
const PARALLELISM = 8;

const { values } = parseArgs({
  options: {
    n: { type: 'string', short: 'n', default: process.env.CRID_BENCH_N ?? '40' },
    endpoint: { type: 'string' },
    image: { type: 'string' },
    handler: { type: 'string', default: '' },
  },
});

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function timed<T>(samples: number[], call: () => Promise<T>): Promise<T> {
  const t0 = process.hrtime.bigint();
  const result = await call();
  samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  return result;
}

interface Target {
  client: CriClient;
  image: string;
  pods: Array<{ id: string; config: Record<string, unknown> }>;
}

async function oneContainer(t: Target, i: number, samples: Samples, tag: string): Promise<void> {
  const pod = t.pods[i % t.pods.length]!;
  const config = {
    metadata: { name: `bench-${tag}-${i}`, attempt: 0 },
    image: { image: t.image },
    command: ['/bin/sh', '-c', 'sleep 3600'],
    linux: {},
  };
  const rt = t.client.runtime;
  const { container_id: id } = await timed(samples.create, () =>
    rt.CreateContainer({ pod_sandbox_id: pod.id, config, sandbox_config: pod.config }),
  );
  await timed(samples.start, () => rt.StartContainer({ container_id: id }));
  await timed(samples.stop, () => rt.StopContainer({ container_id: id, timeout: 10 }));
  await timed(samples.remove, () => rt.RemoveContainer({ container_id: id }));
}

async function run(t: Target, n: number, parallelism: number, tag: string): Promise<Samples> {
  const samples: Samples = { create: [], start: [], stop: [], remove: [] };
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) await oneContainer(t, i, samples, tag);
  };
  await Promise.all(Array.from({ length: parallelism }, worker));
  for (const op of OPS) samples[op].sort((a, b) => a - b);
  return samples;
}

function report(label: string, samples: Samples, wallMs: number): void {
  const cells = OPS.map(
    (op) => `${op} ${percentile(samples[op], 50).toFixed(1)}/${percentile(samples[op], 95).toFixed(1)}`,
  );
  console.log(
    `${label.padEnd(14)} ${cells.join('  ')}  (p50/p95 ms; ${samples.create.length} containers in ${(wallMs / 1000).toFixed(1)} s)`,
  );
}

async function main(): Promise<void> {
  const n = Number(values.n);
  let env: PodEnv | undefined;
  let client: CriClient;
  let image: string;
  if (values.endpoint) {
    if (!values.image) throw new Error('--image is required with --endpoint');
    client = criClient(values.endpoint.replace(/^unix:\/\//, ''));
    image = values.image;
  } else {
    env = await startPodEnv();
    client = env.client;
    image = values.image ?? env.busyboxImage;
  }
  const pods: Target['pods'] = [];
  try {
    await client.image.PullImage({ image: { image } });
    for (let p = 0; p < PODS; p++) {
      const config = podConfig(`bench-pod-${process.pid}-${p}`);
      const { pod_sandbox_id: id } = await client.runtime.RunPodSandbox({ config, runtime_handler: values.handler });
      pods.push({ id, config });
    }
    const target = { client, image, pods };
    await run(target, PARALLELISM, PARALLELISM, 'warmup');
    console.log(
      `crid container bench: ${n} containers over ${PODS} pods, handler "${values.handler || 'default'}", ${values.endpoint ?? 'own crid'}`,
    );
    for (const [label, parallelism] of [
      ['serial', 1],
      [`parallel ${PARALLELISM}`, PARALLELISM],
    ] as const) {
      const t0 = Date.now();
      const samples = await run(target, n, parallelism, label.replace(' ', ''));
      report(label, samples, Date.now() - t0);
    }
  } finally {
    for (const pod of pods) {
      await client.runtime.StopPodSandbox({ pod_sandbox_id: pod.id }).catch(() => {});
      await client.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id }).catch(() => {});
    }
    if (env) await env.dispose();
    else client.close();
  }
}

// crun refuses hybrid cgroup hosts whose cgroup2 holds controllers: prepare the host as the tests do.
const restoreHost = await prepareHostForCrun();
try {
  await main();
} finally {
  await restoreHost();
}
