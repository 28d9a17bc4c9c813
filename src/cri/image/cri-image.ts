import type { Image } from '../../generated/runtime/v1/Image.ts';
import type { ImageRecord } from '../../image/image-store.ts';

/** An image record as CRI's Image message. */
export function toCriImage(image: ImageRecord, pinned: boolean): Image {
  return {
    id: image.id,
    repo_tags: image.repoTags,
    repo_digests: image.repoDigests,
    size: String(image.size),
    uid: image.uid === undefined ? null : { value: image.uid },
    username: image.username,
    spec: { image: image.id, annotations: {} },
    pinned,
  };
}
