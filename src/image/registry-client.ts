// A client of the OCI distribution API for one repository: manifests by tag or digest, blobs, and
// the pushes tests and the bench use. Hosts (mirrors, then upstream) are tried in order.
import type { Readable } from 'node:stream';
import type { AuthConfig__Output } from '../generated/runtime/v1/AuthConfig.ts';
import { failedPrecondition, notFound, unavailable, type CridError, invalidArgument } from '../errors.ts';
import type { Logger } from '../log.ts';
import { hostUrl, type HostCapability, type RegistryHost } from './hosts-config.ts';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  discardBody,
  HttpTransport,
  readBody,
  type HttpRequest,
  type HttpResponse,
  type TransferObserver,
} from './http-transport.ts';
import {
  basicAuthorization,
  credentialsFor,
  parseChallenge,
  type Challenge,
  type Credentials,
} from './registry-auth.ts';
import { INDEX_TYPES, MANIFEST_TYPES } from './media-types.ts';
import type { Digest } from '../reference/digest.ts';

export interface FetchedManifest {
  mediaType: string;
  bytes: Buffer;
}

export interface RegistryClientOptions {
  domain: string;
  repository: string;
  hosts: RegistryHost[];
  auth?: AuthConfig__Output | null;
  log: Logger;
  /** Shared agents, proxies and timeouts; direct connections when absent. */
  transport?: HttpTransport;
  /** Aborts every request of this client (the pull was cancelled). */
  signal?: AbortSignal;
  observer?: TransferObserver;
}

const directTransport = new HttpTransport({ connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS });

const MANIFEST_LIMIT = 4 << 20;
const MAX_REDIRECTS = 5;
const ACCEPT_MANIFESTS = [...MANIFEST_TYPES, ...INDEX_TYPES, '*/*;q=0.1'].join(', ');

type Send = Omit<HttpRequest, 'url'> & { suffix: string };

export class RegistryClient {
  readonly #opts: RegistryClientOptions;
  /** Authorization header per host and scope, once a challenge has been answered. */
  readonly #authorization = new Map<string, string>();

  constructor(opts: RegistryClientOptions) {
    this.#opts = opts;
  }

  /** GET a manifest or index by tag or digest; the caller verifies the digest. */
  async fetchManifest(tagOrDigest: string): Promise<FetchedManifest> {
    const capability: HostCapability = tagOrDigest.startsWith('sha256:') ? 'pull' : 'resolve';
    return this.#withHosts(capability, `manifest ${tagOrDigest}`, async (host) => {
      const res = await this.#send(host, {
        method: 'GET',
        suffix: `/manifests/${tagOrDigest}`,
        headers: { accept: ACCEPT_MANIFESTS },
      });
      const bytes = await readBody(res, MANIFEST_LIMIT);
      const mediaType = (res.headers['content-type'] ?? '').split(';')[0]!.trim();
      return { mediaType, bytes };
    });
  }

  /** GET a blob as a stream; the caller verifies size and digest while reading it. */
  async fetchBlob(digest: Digest): Promise<Readable> {
    return this.#withHosts('pull', `blob ${digest}`, async (host) => {
      const res = await this.#send(host, { method: 'GET', suffix: `/blobs/${digest}` });
      return res.body;
    });
  }

  /** Monolithic blob upload (POST an upload session, PUT the bytes with the digest). */
  async pushBlob(digest: Digest, data: Buffer): Promise<void> {
    await this.#withHosts('push', `push blob ${digest}`, async (host) => {
      const head = await this.#send(host, { method: 'HEAD', suffix: `/blobs/${digest}` }, [404]);
      discardBody(head);
      if (head.status === 200) return;
      const start = await this.#send(host, { method: 'POST', suffix: '/blobs/uploads/' });
      discardBody(start);
      const location = new URL(String(start.headers.location), hostUrl(host, '/'));
      location.searchParams.set('digest', digest);
      const put = await this.#request(host, {
        method: 'PUT',
        url: location,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
        body: data,
      });
      discardBody(put);
    });
  }

  async pushManifest(tagOrDigest: string, mediaType: string, bytes: Buffer): Promise<void> {
    await this.#withHosts('push', `push manifest ${tagOrDigest}`, async (host) => {
      const headers = { 'content-type': mediaType, 'content-length': String(bytes.length) };
      discardBody(await this.#send(host, { method: 'PUT', suffix: `/manifests/${tagOrDigest}`, headers, body: bytes }));
    });
  }

  async #withHosts<T>(
    capability: HostCapability,
    what: string,
    attempt: (host: RegistryHost) => Promise<T>,
  ): Promise<T> {
    const hosts = this.#opts.hosts.filter((h) => h.capabilities.includes(capability));
    if (hosts.length === 0)
      throw failedPrecondition(`no registry host for ${this.#opts.domain} has the ${capability} capability`);
    let lastError: unknown;
    for (const host of hosts) {
      try {
        return await attempt(host);
      } catch (err) {
        if (this.#opts.signal?.aborted) throw err;
        lastError = err;
        this.#opts.log.debug({ host: host.host, err: String(err) }, `registry ${what} failed, trying next host`);
      }
    }
    throw lastError;
  }

  #send(host: RegistryHost, req: Send, okStatuses: number[] = []): Promise<HttpResponse> {
    const url = hostUrl(host, `/${this.#opts.repository}${req.suffix}`);
    return this.#request(host, { ...req, url }, okStatuses);
  }

  /** Sends with stored authorization, answers one 401 challenge, follows redirects, maps errors. */
  async #request(host: RegistryHost, req: HttpRequest, okStatuses: number[] = []): Promise<HttpResponse> {
    const scope = this.#scope(req.method);
    let res = await this.#sendFollowing(host, req, this.#authorization.get(`${host.host} ${scope}`));
    if (res.status === 401) {
      const challenge = parseChallenge(String(res.headers['www-authenticate'] ?? ''));
      discardBody(res);
      const authorization = await this.#answerChallenge(host, challenge, scope);
      this.#authorization.set(`${host.host} ${scope}`, authorization);
      res = await this.#sendFollowing(host, req, authorization);
    }
    if ((res.status >= 200 && res.status < 300) || okStatuses.includes(res.status)) return res;
    discardBody(res);
    throw this.#statusError(host, req, res.status);
  }

  async #sendFollowing(host: RegistryHost, req: HttpRequest, authorization: string | undefined): Promise<HttpResponse> {
    let url = req.url;
    for (let hop = 0; ; hop++) {
      const sameOrigin = url.origin === req.url.origin;
      const headers = { ...host.header, ...req.headers, ...(authorization && sameOrigin && { authorization }) };
      const res = await this.#sendRaw(host, { ...req, url, headers });
      const location = res.headers.location;
      const isRedirect =
        res.status >= 300 &&
        res.status < 400 &&
        location !== undefined &&
        (req.method === 'GET' || req.method === 'HEAD');
      if (!isRedirect) return res;
      if (hop >= MAX_REDIRECTS) throw unavailable(`too many redirects from ${req.url.origin}${req.url.pathname}`);
      discardBody(res);
      url = new URL(location, url);
    }
  }

  #sendRaw(host: RegistryHost, req: HttpRequest): Promise<HttpResponse> {
    const { transport = directTransport, signal, observer } = this.#opts;
    return transport.send(host, req, { ...(signal && { signal }), ...(observer && { observer }) });
  }

  #scope(method: HttpRequest['method']): string {
    const actions = method === 'GET' || method === 'HEAD' ? 'pull' : 'pull,push';
    return `repository:${this.#opts.repository}:${actions}`;
  }

  /** The pull's own credentials; without any, the host's from the inline registry configs. */
  #credentials(host: RegistryHost): Credentials | undefined {
    return this.#opts.auth ? credentialsFor(this.#opts.auth, host.host, this.#opts.domain) : host.credentials;
  }

  async #answerChallenge(host: RegistryHost, challenge: Challenge | undefined, scope: string): Promise<string> {
    const creds = this.#credentials(host);
    if (creds?.registryToken !== undefined) return `Bearer ${creds.registryToken}`;
    if (challenge?.scheme === 'basic') {
      const basic = creds && basicAuthorization(creds);
      if (basic === undefined)
        throw failedPrecondition(
          `registry ${host.host} requires credentials (401 Unauthorized, basic auth) for ${this.#opts.repository}`,
        );
      return basic;
    }
    if (challenge?.scheme === 'bearer' && challenge.params.realm !== undefined) {
      return `Bearer ${await this.#fetchToken(host, challenge.params, scope, creds)}`;
    }
    throw failedPrecondition(
      `registry ${host.host} answered 401 Unauthorized without a usable WWW-Authenticate challenge`,
    );
  }

  /** Token service: GET with basic credentials (docker style), or POST a refresh token (OAuth2). */
  async #fetchToken(
    host: RegistryHost,
    params: Record<string, string>,
    scope: string,
    creds: Credentials | undefined,
  ): Promise<string> {
    const realm = new URL(params.realm!);
    const service = params.service ?? '';
    const scopes = [...new Set([params.scope, scope].filter((s): s is string => s !== undefined && s !== ''))];
    let res: HttpResponse;
    if (creds?.identityToken !== undefined) {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: creds.identityToken,
        service,
        client_id: 'crid',
        scope: scopes.join(' '),
      });
      const body = Buffer.from(form.toString());
      res = await this.#sendRaw(host, {
        method: 'POST',
        url: realm,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) },
        body,
      });
    } else {
      if (service !== '') realm.searchParams.set('service', service);
      for (const s of scopes) realm.searchParams.append('scope', s);
      const basic = creds && basicAuthorization(creds);
      res = await this.#sendRaw(host, { method: 'GET', url: realm, headers: basic ? { authorization: basic } : {} });
    }
    const body = await readBody(res, 1 << 20);
    if (res.status === 401 || res.status === 403) {
      const why = creds === undefined ? 'requires credentials' : 'rejected the credentials';
      throw failedPrecondition(`token service ${realm.host} ${why} for ${this.#opts.repository} (${res.status})`);
    }
    if (res.status !== 200)
      throw unavailable(`token service ${realm.host} answered ${res.status} for ${this.#opts.repository}`);
    const json = JSON.parse(body.toString('utf8')) as { token?: string; access_token?: string };
    const token = json.token ?? json.access_token;
    if (token === undefined || token === '') throw unavailable(`token service ${realm.host} returned no token`);
    return token;
  }

  #statusError(host: RegistryHost, req: HttpRequest, status: number): CridError {
    const what = `${req.method} ${host.scheme}://${host.host}${req.url.pathname}`;
    if (status === 401 || status === 403) {
      const creds =
        this.#credentials(host) === undefined ? 'no credentials were given' : 'the credentials were rejected';
      return failedPrecondition(
        `registry ${host.host} denied access to ${this.#opts.repository} (${status}): ${creds}`,
      );
    }
    if (status === 404) return notFound(`${what}: not found (404)`);
    if (status === 400) return invalidArgument(`${what}: registry answered 400 Bad Request`);
    return unavailable(`${what}: registry answered ${status}`);
  }
}
