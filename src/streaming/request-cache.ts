// One-time tokens for streaming URLs, like kubelet's requestCache: unguessable, consumed on
// first use, expiring after a TTL, with a cap on how many may be outstanding.
import { randomBytes } from 'node:crypto';
import { resourceExhausted } from '../errors.ts';

const TOKEN_BYTES = 16;

interface Entry<T> {
  request: T;
  expiresAt: number;
}

export class RequestCache<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #ttlMs: number;
  readonly #maxInFlight: number;
  readonly #now: () => number;

  constructor(options: { ttlMs: number; maxInFlight: number; now?: () => number }) {
    this.#ttlMs = options.ttlMs;
    this.#maxInFlight = options.maxInFlight;
    this.#now = options.now ?? Date.now;
  }

  insert(request: T): string {
    this.#evictExpired();
    if (this.#entries.size >= this.#maxInFlight) {
      throw resourceExhausted(`maximum number of in-flight streaming requests (${this.#maxInFlight}) exceeded`);
    }
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    this.#entries.set(token, { request, expiresAt: this.#now() + this.#ttlMs });
    return token;
  }

  /** The request for `token` if it exists and has not expired; the token is gone afterwards. */
  consume(token: string): T | undefined {
    const entry = this.#entries.get(token);
    if (entry === undefined) return undefined;
    this.#entries.delete(token);
    return entry.expiresAt > this.#now() ? entry.request : undefined;
  }

  /** The request for `token` without consuming it (for requests that cannot use it). */
  peek(token: string): T | undefined {
    const entry = this.#entries.get(token);
    return entry !== undefined && entry.expiresAt > this.#now() ? entry.request : undefined;
  }

  get size(): number {
    this.#evictExpired();
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }

  #evictExpired(): void {
    const now = this.#now();
    for (const [token, entry] of this.#entries) {
      if (entry.expiresAt <= now) this.#entries.delete(token);
    }
  }
}
