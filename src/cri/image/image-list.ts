import type { ListImagesRequest__Output } from '../../generated/runtime/v1/ListImagesRequest.ts';
import type { ListImagesResponse } from '../../generated/runtime/v1/ListImagesResponse.ts';
import type { ImageRecord } from '../../image/image-store.ts';
import { imageIdPrefix, parseReference, repositoryName } from '../../reference/reference.ts';
import type { ImageServiceDeps } from './deps.ts';
import { toCriImage } from './cri-image.ts';

/** `repo` of a reference without tag or digest, normalized; undefined for anything else. */
function bareRepository(ref: string): string | undefined {
  try {
    const parsed = parseReference(ref);
    return parsed.tag === undefined && parsed.digest === undefined ? repositoryName(parsed) : undefined;
  } catch {
    return undefined;
  }
}

function inRepository(image: ImageRecord, repository: string): boolean {
  return [...image.repoTags, ...image.repoDigests].some(
    (ref) => ref.startsWith(`${repository}:`) || ref.startsWith(`${repository}@`),
  );
}

/**
 * The images `crictl images <wanted>` means: the one an id, repo:tag or repo@digest names, those whose
 * id starts with it, and, for a repository without tag, every image of it (as `docker images REPO`).
 */
function selectImages(images: ImageServiceDeps['images'], wanted: string): ImageRecord[] {
  // A filter that is an ambiguous id prefix lists every image it starts, so no single lookup by id here.
  const named = images.byReference(wanted);
  const idPrefix = imageIdPrefix(wanted);
  const repository = bareRepository(wanted);
  return images
    .list()
    .filter(
      (image) =>
        image.id === named?.id ||
        (idPrefix !== undefined && image.id.startsWith(idPrefix)) ||
        (repository !== undefined && inRepository(image, repository)),
    );
}

export function listImages(deps: ImageServiceDeps) {
  return async (req: ListImagesRequest__Output): Promise<ListImagesResponse> => {
    const wanted = req.filter?.image?.image ?? '';
    const found = wanted === '' ? deps.images.list() : selectImages(deps.images, wanted);
    return { images: found.map((image) => toCriImage(image, deps.images.isPinned(image))) };
  };
}
