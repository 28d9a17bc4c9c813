// The RuntimeService's RPC table, as image/index.ts is the ImageService's: each RPC's adapter by
// name, and the paged stream of each List call.
import type { RpcTable } from '../../server/rpc.ts';
import type { Logger } from '../../log.ts';
import type { PodDeps } from '../../pod/deps.ts';
import type { StreamingServer } from '../../streaming/server.ts';
import { streamingLists } from '../stream-lists.ts';
import { version } from './version.ts';
import { status, type StatusDeps } from './status.ts';
import { runtimeConfig } from './runtime-config.ts';
import { updateRuntimeConfig, type PodCidrHolder } from './update-runtime-config.ts';
import { runPodSandbox } from './sandbox-run.ts';
import { stopPodSandboxRpc } from './sandbox-stop.ts';
import { removePodSandboxRpc } from './sandbox-remove.ts';
import { podSandboxStatus } from './sandbox-status.ts';
import { listPodSandbox } from './sandbox-list.ts';
import { updatePodSandboxResources } from './sandbox-update-resources.ts';
import { createContainerRpc } from './container-create.ts';
import { startContainerRpc } from './container-start.ts';
import { stopContainerRpc } from './container-stop.ts';
import { removeContainerRpc } from './container-remove.ts';
import { containerStatusRpc } from './container-status.ts';
import { listContainersRpc } from './container-list.ts';
import { updateContainerResourcesRpc } from './container-update.ts';
import { reopenContainerLogRpc } from './container-reopen-log.ts';
import { execSyncRpc } from './exec-sync.ts';
import { statsHandlers } from './container-stats.ts';
import { getContainerEventsRpc } from './container-events.ts';
import { podMetricsRpcs } from './pod-metrics.ts';
import { streamingRpcs } from './streaming.ts';

export interface RuntimeServiceDeps {
  pod: PodDeps;
  /** What Status and RuntimeConfig report: the config, the network's and the handlers' readiness. */
  status: StatusDeps;
  /** The pod CIDR kubelet hands down in UpdateRuntimeConfig. */
  podCidr: PodCidrHolder;
  streaming: StreamingServer;
  log: Logger;
}

export function runtimeServiceRpcs(deps: RuntimeServiceDeps): RpcTable {
  const pod = deps.pod;
  const table: RpcTable = {
    Version: version,
    Status: status(deps.status),
    RuntimeConfig: runtimeConfig(deps.status.config),
    UpdateRuntimeConfig: updateRuntimeConfig(deps.podCidr, deps.log),
    RunPodSandbox: runPodSandbox(pod),
    StopPodSandbox: stopPodSandboxRpc(pod),
    RemovePodSandbox: removePodSandboxRpc(pod),
    PodSandboxStatus: podSandboxStatus(pod),
    ListPodSandbox: listPodSandbox(pod),
    UpdatePodSandboxResources: updatePodSandboxResources(pod),
    CreateContainer: createContainerRpc(pod),
    StartContainer: startContainerRpc(pod),
    StopContainer: stopContainerRpc(pod),
    RemoveContainer: removeContainerRpc(pod),
    ContainerStatus: containerStatusRpc(pod),
    ListContainers: listContainersRpc(pod),
    UpdateContainerResources: updateContainerResourcesRpc(pod),
    ReopenContainerLog: reopenContainerLogRpc(pod),
    ExecSync: execSyncRpc(pod),
    GetContainerEvents: getContainerEventsRpc(pod),
    ...statsHandlers(pod),
    ...podMetricsRpcs(pod),
    ...streamingRpcs(pod, deps.streaming),
  };
  return { ...table, ...streamingLists(table) };
}
