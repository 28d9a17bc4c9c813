// The kubelet-shaped CRI workloads bench-compare runs against each runtime, the same calls in the
// same order for both. Pods use a cgroup parent of the run's own, as kubelet always sends one.
import fs from 'node:fs';
import type { CriClient } from '../../test/helpers/cri-client.ts';
import type { CreateContainerResponse__Output } from '../../src/generated/runtime/v1/CreateContainerResponse.ts';
import type { ListContainersResponse__Output } from '../../src/generated/runtime/v1/ListContainersResponse.ts';
import type { ListPodSandboxResponse__Output } from '../../src/generated/runtime/v1/ListPodSandboxResponse.ts';
import type { RunPodSandboxResponse__Output } from '../../src/generated/runtime/v1/RunPodSandboxResponse.ts';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from '../../src/oci/mounts.ts';
import { nowMs, pool, sleep, timed } from './samples.ts';

export const CONCURRENCY = 8;

export interface Workload {
  client: CriClient;
  busyboxImage: string;
  cgroupParent: string;
  /** Keeps pod names unique across the phases of one runtime's run. */
  prefix: string;
}

export interface Pod {
  id: string;
  config: Record<string, unknown>;
}

export interface SerialSamples {
  run: number[];
  createStart: number[];
  stopRemove: number[];
}

export interface RelistSamples {
  relist: number[];
  listContainerStats: number[];
}

function podConfig(w: Workload, name: string): Record<string, unknown> {
  return {
    metadata: { name, namespace: 'crid-bench', uid: `uid-${name}`, attempt: 0 },
    hostname: name,
    log_directory: '',
    linux: { cgroup_parent: w.cgroupParent },
  };
}

export async function runPod(w: Workload, name: string): Promise<Pod> {
  const config = podConfig(w, `${w.prefix}-${name}`);
  const res: RunPodSandboxResponse__Output = await w.client.runtime.RunPodSandbox({ config, runtime_handler: 'runc' });
  return { id: res.pod_sandbox_id, config };
}

// Kubelet sends masked and read-only paths for every container; without them containerd masks
// nothing and crid its defaults, and the two runcs would not do the same work. Both get crid's.
const SECURITY_CONTEXT = { masked_paths: [...DEFAULT_MASKED_PATHS], readonly_paths: [...DEFAULT_READONLY_PATHS] };

export async function createStart(w: Workload, pod: Pod): Promise<void> {
  const config = {
    metadata: { name: 'sleeper', attempt: 0 },
    image: { image: w.busyboxImage },
    command: ['/bin/sh', '-c', 'sleep 3600'],
    linux: { security_context: SECURITY_CONTEXT },
  };
  const res: CreateContainerResponse__Output = await w.client.runtime.CreateContainer({
    pod_sandbox_id: pod.id,
    config,
    sandbox_config: pod.config,
  });
  await w.client.runtime.StartContainer({ container_id: res.container_id });
}

export async function stopRemove(w: Workload, podId: string): Promise<void> {
  await w.client.runtime.StopPodSandbox({ pod_sandbox_id: podId });
  await w.client.runtime.RemovePodSandbox({ pod_sandbox_id: podId });
}

export async function pullImages(w: Workload, images: string[]): Promise<void> {
  for (const image of images) await w.client.image.PullImage({ image: { image } });
}

/** n pods one after the other: RunPodSandbox, then Create+Start of one container, then Stop+Remove. */
export async function serialLifecycles(w: Workload, n: number): Promise<SerialSamples> {
  const samples: SerialSamples = { run: [], createStart: [], stopRemove: [] };
  for (let i = 0; i < n; i++) {
    let pod: Pod | undefined;
    samples.run.push(await timed(async () => (pod = await runPod(w, `serial-${i}`))));
    samples.createStart.push(await timed(() => createStart(w, pod!)));
    samples.stopRemove.push(await timed(() => stopRemove(w, pod!.id)));
  }
  return samples;
}

/** n RunPodSandbox at CONCURRENCY; resolves with their wall time in ms (the pods are removed after, untimed). */
export async function parallelRuns(w: Workload, n: number): Promise<number> {
  const ids: string[] = [];
  const ms = await pool(n, CONCURRENCY, async (i) => void ids.push((await runPod(w, `parallel-${i}`)).id));
  await pool(ids.length, CONCURRENCY, (i) => stopRemove(w, ids[i]!));
  return ms;
}

/** n pods, each with a running container, made at CONCURRENCY; resolves with the wall time in ms. */
export async function fill(w: Workload, n: number, phase: string): Promise<number> {
  return pool(n, CONCURRENCY, async (i) => createStart(w, await runPod(w, `${phase}-${i}`)));
}

export async function removeAll(client: CriClient): Promise<void> {
  const { items }: ListPodSandboxResponse__Output = await client.runtime.ListPodSandbox({});
  await pool(items.length, CONCURRENCY, async (i) => {
    await client.runtime.StopPodSandbox({ pod_sandbox_id: items[i]!.id });
    await client.runtime.RemovePodSandbox({ pod_sandbox_id: items[i]!.id });
  });
}

/** One relist as kubelet's PLEG and pod workers make it; resolves with ListContainerStats' own ms. */
async function relist(client: CriClient): Promise<number> {
  const { items }: ListPodSandboxResponse__Output = await client.runtime.ListPodSandbox({});
  const { containers }: ListContainersResponse__Output = await client.runtime.ListContainers({});
  await pool(
    items.length,
    CONCURRENCY,
    async (i) => void (await client.runtime.PodSandboxStatus({ pod_sandbox_id: items[i]!.id })),
  );
  await pool(
    containers.length,
    CONCURRENCY,
    async (i) => void (await client.runtime.ContainerStatus({ container_id: containers[i]!.id })),
  );
  return timed(() => client.runtime.ListContainerStats({}));
}

/**
 * A relist of each client started every second (or right after the last ones, if they took longer)
 * for `seconds`; the clients take turns going first. Resolves with each client's samples.
 */
export async function relistLoop(clients: CriClient[], seconds: number): Promise<RelistSamples[]> {
  const samples = clients.map((): RelistSamples => ({ relist: [], listContainerStats: [] }));
  const end = nowMs() + seconds * 1000;
  for (let tick = 0; nowMs() < end; tick++) {
    const t0 = nowMs();
    for (const k of turns(clients.length, tick)) {
      const start = nowMs();
      samples[k]!.listContainerStats.push(await relist(clients[k]!));
      samples[k]!.relist.push(nowMs() - start);
    }
    await sleep(Math.max(0, t0 + 1000 - nowMs()));
  }
  return samples;
}

/** The order of n parties in round r: forwards in even rounds, backwards in odd ones (ABBA). */
export function turns(n: number, round: number): number[] {
  const order = Array.from({ length: n }, (_, k) => k);
  return round % 2 === 0 ? order : order.reverse();
}

/** VmRSS of one process in MiB. */
export function rssMiB(pid: number): number {
  const kib = /^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib ?? Number.NaN) / 1024;
}

const TICK_MS = 10;

/** CPU time (user + system) one process has used, in ms. */
export function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** CPU time the whole machine has spent busy (not idle or waiting on I/O), in ms over all CPUs. */
export function machineBusyMs(): number {
  const [user, nice, system, , , irq, softirq] = fs
    .readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user! + nice! + system! + irq! + softirq!) * TICK_MS;
}
