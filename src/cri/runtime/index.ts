// The container RPCs of the RuntimeService.
import type { HandlerTable } from '../../server/rpc.ts';
import type { PodDeps } from '../../pod/deps.ts';
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
import { podMetricsHandlers } from './pod-metrics.ts';

export function containerHandlers(deps: PodDeps): HandlerTable {
  return {
    CreateContainer: createContainerRpc(deps),
    StartContainer: startContainerRpc(deps),
    StopContainer: stopContainerRpc(deps),
    RemoveContainer: removeContainerRpc(deps),
    ContainerStatus: containerStatusRpc(deps),
    ListContainers: listContainersRpc(deps),
    UpdateContainerResources: updateContainerResourcesRpc(deps),
    ReopenContainerLog: reopenContainerLogRpc(deps),
    ExecSync: execSyncRpc(deps),
    GetContainerEvents: getContainerEventsRpc(deps),
    ...statsHandlers(deps),
    ...podMetricsHandlers(deps),
  };
}
