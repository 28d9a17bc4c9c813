import type { RemoveImageRequest__Output } from '../../generated/runtime/v1/RemoveImageRequest.ts';
import type { RemoveImageResponse } from '../../generated/runtime/v1/RemoveImageResponse.ts';
import { invalidArgument } from '../../errors.ts';
import type { RpcContext } from '../../server/rpc.ts';
import type { ImageServiceDeps } from './deps.ts';

/** By id, tag or digest; removing an image that is not there succeeds, one in use too (as containerd). */
export function removeImage(deps: ImageServiceDeps) {
  return async (req: RemoveImageRequest__Output, ctx: RpcContext): Promise<RemoveImageResponse> => {
    const ref = req.image?.image ?? '';
    if (ref === '') throw invalidArgument('RemoveImageRequest.image.image is empty');
    await deps.images.remove(ref);
    ctx.log.info({ image: ref }, 'removed image');
    return {};
  };
}
