import type { PullImageRequest__Output } from '../../generated/runtime/v1/PullImageRequest.ts';
import type { PullImageResponse } from '../../generated/runtime/v1/PullImageResponse.ts';
import { invalidArgument } from '../../errors.ts';
import type { RpcContext } from '../../server/rpc.ts';
import type { ImageServiceDeps } from './deps.ts';

export function pullImage(deps: ImageServiceDeps) {
  return async (req: PullImageRequest__Output, ctx: RpcContext): Promise<PullImageResponse> => {
    const ref = req.image?.image ?? '';
    if (ref === '') throw invalidArgument('PullImageRequest.image.image is empty');
    const podId = req.sandbox_config?.metadata?.uid;
    const image = await deps.images.pull(ref, req.auth, ctx.signal).finally(deps.released);
    ctx.log.info({ image: ref, imageId: image.id, ...(podId && { podUid: podId }) }, 'pulled image');
    return { image_ref: image.id };
  };
}
