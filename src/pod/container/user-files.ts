// The image's /etc/passwd and /etc/group for user resolution, read from the unpacked layer dirs top
// down (no mount to leak): the first layer that has the file decides, a whiteout means "absent".
import fs from 'node:fs';
import path from 'node:path';
import type { ImageService } from '../../image/image-service.ts';
import type { ImageRecord } from '../../image/image-store.ts';
import type { UserFiles } from '../../oci/user.ts';

export async function readImageUserFiles(images: ImageService, image: ImageRecord): Promise<UserFiles> {
  const layerDirs = image.layers.map((l) => images.snapshotter.layerPath(l.chainId)).reverse();
  const [passwd, group] = await Promise.all([
    readTopmost(layerDirs, 'etc/passwd'),
    readTopmost(layerDirs, 'etc/group'),
  ]);
  return { passwd, group };
}

async function readTopmost(layerDirs: string[], file: string): Promise<string | null> {
  for (const dir of layerDirs) {
    const full = path.join(dir, file);
    const st = await fs.promises.lstat(full).catch(() => undefined);
    if (!st) continue;
    return st.isFile() ? fs.promises.readFile(full, 'utf8') : null;
  }
  return null;
}
