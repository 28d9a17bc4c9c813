// Everything the pod and container logic works with, built once by the daemon, and where a
// sandbox's files live.
import path from 'node:path';
import type { CridConfig } from '../config/model.ts';
import type { ExitMonitor } from '../events/exit-monitor.ts';
import type { ImageService } from '../image/image-service.ts';
import type { Logger } from '../log.ts';
import type { ShimManager } from '../runtime/shim-manager.ts';
import type { ContainerRecord } from '../store/container.ts';
import type { NameRegistrar } from '../store/name-registrar.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { SandboxRecord } from '../store/sandbox.ts';
import { notFound } from '../errors.ts';
import type { KeyedMutex } from '../util/keyed-mutex.ts';
import type { CriLogWriter } from '../logs/cri-log.ts';
import type { HostFacts } from '../oci/host.ts';
import type { SandboxPhase } from '../metrics/metrics.ts';
import type { ContainerEvents } from '../events/container-feed.ts';
import type { CdiRegistry } from '../cdi/cdi-registry.ts';

export interface PodDeps {
  config: () => CridConfig;
  sandboxes: ObjectStore<SandboxRecord>;
  containers: ObjectStore<ContainerRecord>;
  names: NameRegistrar;
  images: ImageService;
  shims: ShimManager;
  monitor: ExitMonitor;
  events: ContainerEvents;
  /** One operation at a time per sandbox / container id. */
  locks: KeyedMutex;
  /** Open log writers of running containers, by container id. */
  logWriters: Map<string, CriLogWriter>;
  /** Facts about this host the spec builders need (crid's cgroup, oom_score_adj, capabilities…). */
  host: HostFacts;
  /** The CDI devices of the spec files in cdi_spec_dirs. */
  cdi: CdiRegistry;
  /** The reason a handler failed its last self-check, or undefined when it may serve pods. */
  handlerFailure: (handler: string) => string | undefined;
  /** Runs one phase of RunPodSandbox and records its duration per handler. */
  timePhase: <T>(handler: string, phase: SandboxPhase, work: () => Promise<T>) => Promise<T>;
  /** A pod or container is gone: crid gives its memory back once such work pauses (util/memory-release.ts). */
  released: () => void;
  log: Logger;
}

/** A sandbox clients may see: one whose RunPodSandbox has finished. */
export function visibleSandbox(deps: PodDeps, idOrPrefix: string): SandboxRecord {
  const sandbox = deps.sandboxes.get(idOrPrefix);
  if (sandbox.creating) throw notFound(`pod sandbox "${idOrPrefix}" not found (it is still being created)`);
  return sandbox;
}

export function sandboxDir(config: CridConfig, id: string): string {
  return `${config.crid.root}/sandboxes/${id}`;
}

export function sandboxShmDir(deps: PodDeps, id: string): string {
  return path.join(sandboxDir(deps.config(), id), 'shm');
}
