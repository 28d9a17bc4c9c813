// The node's platform and picking it out of an image index, as containerd's default matcher does.
import { notFound } from '../errors.ts';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const ARCH_BY_NODE: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
};

export function hostPlatform(): Platform {
  const architecture = ARCH_BY_NODE[process.arch] ?? process.arch;
  if (architecture === 'arm64') return { os: 'linux', architecture, variant: 'v8' };
  if (architecture === 'arm') return { os: 'linux', architecture, variant: 'v7' };
  return { os: 'linux', architecture };
}

/** arm64 images often omit the v8 variant; any other variant must match exactly. */
function variantMatches(candidate: string | undefined, want: string | undefined): boolean {
  const normalize = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);
  const c = normalize(candidate);
  const w = normalize(want);
  if (c === w) return true;
  return c === undefined && w === 'v8';
}

export function platformMatches(candidate: Platform | undefined, want: Platform): boolean {
  return (
    candidate !== undefined &&
    candidate.os === want.os &&
    candidate.architecture === want.architecture &&
    variantMatches(candidate.variant, want.variant)
  );
}

export function formatPlatform(p: Platform | undefined): string {
  if (p === undefined) return 'unknown';
  return [p.os, p.architecture, p.variant].filter((s) => s !== undefined && s !== '').join('/');
}

/** The first entry of an index for `want`; notFound lists the platforms the index has. */
export function selectPlatform<T extends { platform?: Platform }>(manifests: T[], want: Platform, what: string): T {
  const match = manifests.find((m) => platformMatches(m.platform, want));
  if (match) return match;
  const available = manifests.map((m) => formatPlatform(m.platform)).join(', ');
  throw notFound(`${what}: no manifest for ${formatPlatform(want)} in the image index (has ${available || 'none'})`);
}
