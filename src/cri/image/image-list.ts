import type { ListImagesRequest__Output } from '../../generated/runtime/v1/ListImagesRequest.ts';
import type { ListImagesResponse } from '../../generated/runtime/v1/ListImagesResponse.ts';
import type { ImageServiceDeps } from './deps.ts';
import { toCriImage } from './cri-image.ts';

export function listImages(deps: ImageServiceDeps) {
  return async (req: ListImagesRequest__Output): Promise<ListImagesResponse> => {
    const wanted = req.filter?.image?.image ?? '';
    const found = wanted === '' ? deps.images.list() : [deps.images.getImage(wanted)].filter((i) => i !== undefined);
    return { images: found.map((image) => toCriImage(image, deps.images.isPinned(image))) };
  };
}
