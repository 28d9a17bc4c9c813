// The ImageService's RPC table: each RPC's adapter by name, and the paged stream of ListImages.
import type { RpcTable } from '../../server/rpc.ts';
import { streamingLists } from '../stream-lists.ts';
import type { ImageServiceDeps } from './deps.ts';
import { imageFsInfo } from './image-fs-info.ts';
import { listImages } from './image-list.ts';
import { pullImage } from './image-pull.ts';
import { removeImage } from './image-remove.ts';
import { imageStatus } from './image-status.ts';

export type { ImageServiceDeps } from './deps.ts';

export function imageServiceRpcs(deps: ImageServiceDeps): RpcTable {
  const table: RpcTable = {
    PullImage: pullImage(deps),
    ListImages: listImages(deps),
    ImageStatus: imageStatus(deps),
    RemoveImage: removeImage(deps),
    ImageFsInfo: imageFsInfo(deps),
  };
  return { ...table, ...streamingLists(table) };
}
