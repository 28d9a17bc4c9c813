import type { ImageStatusRequest__Output } from '../../generated/runtime/v1/ImageStatusRequest.ts';
import type { ImageStatusResponse } from '../../generated/runtime/v1/ImageStatusResponse.ts';
import { invalidArgument } from '../../errors.ts';
import type { ImageServiceDeps } from './deps.ts';
import { toCriImage } from './cri-image.ts';

/** A missing image is an empty answer, not an error: kubelet asks to decide whether to pull. */
export function imageStatus(deps: ImageServiceDeps) {
  return async (req: ImageStatusRequest__Output): Promise<ImageStatusResponse> => {
    const ref = req.image?.image ?? '';
    if (ref === '') throw invalidArgument('ImageStatusRequest.image.image is empty');
    const image = deps.images.getImage(ref);
    if (image === undefined) return { image: null, info: {} };
    const info: Record<string, string> = {};
    if (req.verbose) {
      const chainId = image.layers.at(-1)?.chainId ?? '';
      info.info = JSON.stringify({
        chainID: chainId,
        manifestDigest: image.manifestDigest,
        record: image,
        imageSpec: await deps.images.imageSpec(image),
      });
    }
    return { image: toCriImage(image, deps.images.isPinned(image)), info };
  };
}
