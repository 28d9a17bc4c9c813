import type { ImageFsInfoResponse } from '../../generated/runtime/v1/ImageFsInfoResponse.ts';
import type { ImageServiceDeps } from './deps.ts';

export function imageFsInfo(deps: ImageServiceDeps) {
  return async (): Promise<ImageFsInfoResponse> => {
    const usage = await deps.images.fsUsage();
    const timestamp = (BigInt(Date.now()) * 1_000_000n).toString();
    return {
      image_filesystems: [
        {
          timestamp,
          fs_id: { mountpoint: usage.mountpoint },
          used_bytes: { value: usage.bytes.toString() },
          inodes_used: { value: usage.inodes.toString() },
        },
      ],
      container_filesystems: [],
    };
  };
}
