// The server-streaming list calls of the newest CRI (StreamPodSandboxes, StreamContainers,
// StreamImages, StreamContainerStats, StreamPodSandboxStats, StreamPodSandboxMetrics): the same
// answer as their List call, sent in pages so that no single message approaches the gRPC size limit.
import type { RpcTable, StreamHandler, UnaryHandler } from '../server/rpc.ts';

const PAGE = 500;

/** [stream RPC, its List RPC, the List response's field, the stream response's field]. */
const STREAMS: Array<[string, string, string, string]> = [
  ['StreamPodSandboxes', 'ListPodSandbox', 'items', 'pod_sandboxes'],
  ['StreamContainers', 'ListContainers', 'containers', 'containers'],
  ['StreamImages', 'ListImages', 'images', 'images'],
  ['StreamContainerStats', 'ListContainerStats', 'stats', 'container_stats'],
  ['StreamPodSandboxStats', 'ListPodSandboxStats', 'stats', 'pod_sandbox_stats'],
  ['StreamPodSandboxMetrics', 'ListPodSandboxMetrics', 'pod_metrics', 'pod_sandbox_metrics'],
];

function paged(list: UnaryHandler, from: string, to: string): StreamHandler {
  return async (req, write, ctx) => {
    const items = ((await list(req, ctx)) as Record<string, unknown[]>)[from] ?? [];
    for (let i = 0; i < items.length || i === 0; i += PAGE) {
      if (ctx.signal.aborted) return;
      write({ [to]: items.slice(i, i + PAGE) });
    }
  };
}

/** Stream handlers for those List handlers the table has. */
export function streamingLists(table: RpcTable): RpcTable {
  const streams: RpcTable = {};
  for (const [stream, listRpc, from, to] of STREAMS) {
    const list = table[listRpc];
    if (list) streams[stream] = paged(list as UnaryHandler, from, to);
  }
  return streams;
}
