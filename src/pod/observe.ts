// What the metrics read from the stores at scrape time, and the handler label of an RPC.
import type { ObjectCount } from '../metrics/metrics.ts';
import type { PodDeps } from './deps.ts';

function count(rows: Array<{ handler: string; state: string }>): ObjectCount[] {
  const counts = new Map<string, ObjectCount>();
  for (const { handler, state } of rows) {
    const key = `${handler}\0${state}`;
    const entry = counts.get(key) ?? { handler, state, count: 0 };
    entry.count++;
    counts.set(key, entry);
  }
  return [...counts.values()];
}

export function objectCounts(deps: PodDeps): { pods: ObjectCount[]; containers: ObjectCount[] } {
  const handlerOf = new Map(deps.sandboxes.list().map((s) => [s.id, s.runtimeHandler]));
  return {
    pods: count(
      deps.sandboxes
        .list()
        .map((s) => ({ handler: s.runtimeHandler, state: s.state === 'SANDBOX_READY' ? 'ready' : 'notready' })),
    ),
    containers: count(
      deps.containers.list().map((c) => ({
        handler: handlerOf.get(c.sandboxId) ?? '',
        state: c.state.replace('CONTAINER_', '').toLowerCase(),
      })),
    ),
  };
}

/** Shim processes per handler: one per pod whose shim still runs (containers share their pod's). */
export function shimsPerHandler(deps: PodDeps): Record<string, number> {
  const shims: Record<string, Set<number>> = {};
  for (const s of deps.sandboxes.list()) {
    const task = deps.shims.get(s.id);
    if (!task) continue;
    shims[s.runtimeHandler] ??= new Set();
    shims[s.runtimeHandler].add(task.shimPid);
  }
  return Object.fromEntries(Object.entries(shims).map(([h, pids]) => [h, pids.size]));
}

/** The runtime handler an RPC concerns, for the metrics' handler label ('' when none). */
export function handlerOfRequest(deps: PodDeps, rpc: string, request: object | null | undefined): string {
  if (!request) return '';
  if (rpc === 'RunPodSandbox') {
    const requested =
      'runtime_handler' in request && typeof request.runtime_handler === 'string' ? request.runtime_handler : '';
    return requested || deps.config().default_runtime_name;
  }
  const podId = 'pod_sandbox_id' in request && typeof request.pod_sandbox_id === 'string' ? request.pod_sandbox_id : '';
  const containerId = 'container_id' in request && typeof request.container_id === 'string' ? request.container_id : '';
  try {
    const sandboxId = podId || (containerId ? deps.containers.find(containerId)?.sandboxId : undefined);
    return (sandboxId && deps.sandboxes.find(sandboxId)?.runtimeHandler) || '';
  } catch {
    return '';
  }
}
