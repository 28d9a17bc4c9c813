// The container RPCs of the RuntimeService.
import type { HandlerTable } from '../../server/rpc.ts';
import type { PodDeps } from '../../pod/deps.ts';

export function containerHandlers(_deps: PodDeps): HandlerTable {
  return {};
}
