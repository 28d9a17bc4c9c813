// The image's /etc/passwd and /etc/group for user resolution, read from the unpacked layer dirs top
// down (no mount to leak): the first layer that has the file decides, a whiteout means "absent".
import fs from 'node:fs';
import path from 'node:path';
import type { ImageService } from '../../image/image-service.ts';
import type { ImageRecord } from '../../image/image-store.ts';
import type { UserFiles } from '../../oci/user.ts';

export function readImageUserFiles(images: ImageService, image: ImageRecord): UserFiles {
  const layerDirs = image.layers.map((l) => images.snapshotter.layerPath(l.chainId)).reverse();
  return { passwd: readTopmost(layerDirs, 'etc/passwd'), group: readTopmost(layerDirs, 'etc/group') };
}

function readTopmost(layerDirs: string[], file: string): string | null {
  for (const dir of layerDirs) {
    const full = path.join(dir, file);
    const st = lstatOrUndefined(full);
    if (!st) continue;
    return st.isFile() ? fs.readFileSync(full, 'utf8') : null;
  }
  return null;
}

/** A layer without the file, or whose path to it is not a directory, does not decide. */
function lstatOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file);
  } catch {
    return undefined;
  }
}
