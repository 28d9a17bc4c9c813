import { createHash } from 'node:crypto';
import { invalidArgument } from '../errors.ts';

/** A content digest; crid stores and verifies sha256 only, like every registry in use. */
export type Digest = `sha256:${string}`;

const SHA256 = /^sha256:[a-f0-9]{64}$/;

export function isDigest(value: string): value is Digest {
  return SHA256.test(value);
}

export function parseDigest(value: string, what = 'digest'): Digest {
  if (!isDigest(value))
    throw invalidArgument(`${what} ${JSON.stringify(value)} is not a sha256 digest (sha256:<64 lowercase hex>)`);
  return value;
}

export function digestHex(digest: Digest): string {
  return digest.slice('sha256:'.length);
}

export function sha256Of(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** OCI chain ids: chain(L0) = diff(L0); chain(Ln) = sha256(chain(Ln-1) + " " + diff(Ln)). */
export function chainIds(diffIds: Digest[]): Digest[] {
  const chains: Digest[] = [];
  for (const diffId of diffIds) {
    const parent = chains.at(-1);
    chains.push(parent === undefined ? diffId : sha256Of(`${parent} ${diffId}`));
  }
  return chains;
}
