// Image references parsed and normalized the way docker and containerd do it
// (github.com/distribution/reference): docker.io is the default domain, single-component names on
// docker.io live under library/, and a reference without tag or digest means :latest.
import { invalidArgument } from '../errors.ts';
import { isDigest, type Digest } from './digest.ts';

export interface ImageReference {
  /** Registry host with optional port, e.g. `docker.io`, `127.0.0.1:5000`. */
  domain: string;
  /** Repository path inside the registry, e.g. `library/busybox`. */
  path: string;
  tag?: string;
  digest?: Digest;
}

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const MAX_NAME_LENGTH = 255;

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const ANY_DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const IMAGE_ID = /^(?:sha256:)?[a-f0-9]{64}$/;

/** True for `sha256:<hex>` or bare 64-hex strings, which name an image id rather than a repository. */
export function looksLikeImageId(value: string): boolean {
  return IMAGE_ID.test(value);
}

const IMAGE_ID_PREFIX = /^(?:sha256:)?[a-f0-9]{1,64}$/;

/** `sha256:<hex>` for a value that can be the start of an image id (with or without `sha256:`). */
export function imageIdPrefix(value: string): string | undefined {
  if (!IMAGE_ID_PREFIX.test(value)) return undefined;
  return value.startsWith('sha256:') ? value : `sha256:${value}`;
}

function splitDomain(name: string): { domain: string; path: string } {
  const slash = name.indexOf('/');
  const first = name.slice(0, slash);
  const isDomain =
    slash > 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase());
  let domain = isDomain ? first : DEFAULT_DOMAIN;
  let path = isDomain ? name.slice(slash + 1) : name;
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = `library/${path}`;
  return { domain, path };
}

/** Splits `name[:tag][@digest]`; the tag colon is the last one after the last slash. */
function splitSuffixes(ref: string): { name: string; tag?: string; digest?: string } {
  const at = ref.indexOf('@');
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  const rest = at >= 0 ? ref.slice(0, at) : ref;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) return { name: rest.slice(0, colon), tag: rest.slice(colon + 1), digest };
  return { name: rest, digest };
}

/** Parses a familiar or full reference into its normalized parts; throws invalidArgument naming it. */
export function parseReference(ref: string): ImageReference {
  const bad = (why: string) => invalidArgument(`invalid image reference ${JSON.stringify(ref)}: ${why}`);
  if (ref === '') throw bad('empty');
  if (looksLikeImageId(ref) && !ref.startsWith('sha256:'))
    throw bad('a 64-character hex string is an image id, not a repository name');
  const { name, tag, digest } = splitSuffixes(ref);
  if (name.length > MAX_NAME_LENGTH) throw bad(`repository name longer than ${MAX_NAME_LENGTH} characters`);
  const { domain, path } = splitDomain(name);
  if (!DOMAIN.test(domain)) throw bad(`invalid registry host ${JSON.stringify(domain)}`);
  if (path !== path.toLowerCase()) throw bad('repository name must be lowercase');
  if (path === '' || !path.split('/').every((c) => PATH_COMPONENT.test(c)))
    throw bad(`invalid repository path ${JSON.stringify(path)}`);
  if (tag !== undefined && !TAG.test(tag)) throw bad(`invalid tag ${JSON.stringify(tag)}`);
  if (digest !== undefined) {
    if (!ANY_DIGEST.test(digest)) throw bad(`invalid digest ${JSON.stringify(digest)}`);
    if (!isDigest(digest))
      throw bad(`unsupported digest ${JSON.stringify(digest)} (only sha256 with 64 lowercase hex)`);
  }
  return { domain, path, ...(tag !== undefined && { tag }), ...(digest !== undefined && { digest }) };
}

/** parseReference plus the `latest` tag when neither tag nor digest is given. */
export function parseNormalizedReference(ref: string): ImageReference {
  const parsed = parseReference(ref);
  return parsed.tag === undefined && parsed.digest === undefined ? { ...parsed, tag: 'latest' } : parsed;
}

export function repositoryName(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}`;
}

export function formatReference(ref: ImageReference): string {
  const tag = ref.tag === undefined ? '' : `:${ref.tag}`;
  const digest = ref.digest === undefined ? '' : `@${ref.digest}`;
  return `${repositoryName(ref)}${tag}${digest}`;
}
