import type { Logger } from '../../log.ts';
import type { ImageService } from '../../image/image-service.ts';

/** What the ImageService handlers need; `images` is crid's ImageService or a stand-in in tests. */
export interface ImageServiceDeps {
  images: Pick<
    ImageService,
    'pull' | 'getImage' | 'byReference' | 'list' | 'remove' | 'isPinned' | 'imageSpec' | 'fsUsage'
  >;
  /** A pull is over: its buffers are garbage (see util/memory-release.ts). */
  released: () => void;
  log: Logger;
}
