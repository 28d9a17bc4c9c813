// crid's control socket: a small HTTP/JSON API on `<crid.state>/control.sock` (mode 0600) for the
// commands that need the running daemon: reload the config, deep-check handlers, measure pods,
// import image archives.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { http } from '../util/http-modules.ts';
import { chmodSync, rmSync } from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Logger } from '../log.ts';
import type { ReloadResult } from '../config/reload.ts';
import type { CheckResult } from '../handler-health/self-check.ts';
import type { MeasureReport } from '../handler-health/overhead.ts';
import { CridError, invalidArgument, notFound } from '../errors.ts';

export const CONTROL_SOCKET_NAME = 'control.sock';
export const MAX_MEASURE_PODS = 50;

export function controlSocketPath(stateDir: string): string {
  return path.join(stateDir, CONTROL_SOCKET_NAME);
}

export interface ControlOperations {
  /** ConfigHolder.reload. */
  reload: () => Promise<ReloadResult>;
  /** Checks one handler (or all when undefined); deep runs a real pause sandbox. Unknown → InvalidArgument. */
  check: (handler: string | undefined, deep: boolean) => Promise<CheckResult[]>;
  /** HandlerHealth.all: the latest results, deep ones included. */
  health: () => CheckResult[];
  /** Measures `pods` pause sandboxes on one handler (or each passing handler when undefined). */
  measure: (handler: string | undefined, pods: number) => Promise<MeasureReport[]>;
  /** ImageService.importArchive over the request body: the images stored, by id and tags. */
  importImages: (archive: Readable) => Promise<ImportedImage[]>;
}

export interface ImportedImage {
  id: string;
  repoTags: string[];
}

export interface ControlServer {
  close(): Promise<void>;
}

export async function startControlServer(
  socketPath: string,
  ops: ControlOperations,
  log: Logger,
): Promise<ControlServer> {
  rmSync(socketPath, { force: true });
  const server = http.createServer((req, res) => {
    route(ops, req).then(
      (body) => reply(res, 200, body),
      (err: unknown) => {
        log.warn({ err, url: req.url }, 'control request failed');
        reply(res, statusOf(err), { error: err instanceof Error ? err.message : String(err) });
      },
    );
  });
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.warn({ err }, 'control socket error'));
  chmodSync(socketPath, 0o600);
  log.info({ socket: socketPath }, 'control socket listening');
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function route(ops: ControlOperations, req: IncomingMessage): Promise<unknown> {
  const url = new URL(req.url ?? '/', 'http://crid');
  const key = `${req.method} ${url.pathname}`;
  const handler = url.searchParams.get('handler') ?? undefined;
  switch (key) {
    case 'POST /reload':
      return ops.reload();
    case 'POST /check':
      return { results: await ops.check(handler, url.searchParams.get('deep') === '1') };
    case 'GET /health':
      return { results: ops.health() };
    case 'POST /measure':
      return { reports: await ops.measure(handler, podCount(url.searchParams.get('pods'))) };
    case 'POST /images/import':
      return { images: await importFromBody(ops, req) };
    default:
      throw notFound(
        `no control route ${key} (routes: POST /reload, POST /check, GET /health, POST /measure, POST /images/import)`,
      );
  }
}

/**
 * The archive reaches the importer through a pass-through, so that a refused archive does not tear
 * down the connection: the rest of the body is drained and the client gets the reason.
 */
async function importFromBody(ops: ControlOperations, req: IncomingMessage): Promise<ImportedImage[]> {
  const body = new PassThrough();
  req.pipe(body);
  req.once('close', () => {
    if (!req.complete) body.destroy(new Error('the client closed the connection before the archive ended'));
  });
  try {
    return await ops.importImages(body);
  } catch (err) {
    req.unpipe(body);
    req.resume();
    await finished(req).catch(() => undefined);
    throw err;
  }
}

function podCount(text: string | null): number {
  if (text === null) return 5;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_MEASURE_PODS)
    throw invalidArgument(`pods must be an integer from 1 to ${MAX_MEASURE_PODS}, got "${text}"`);
  return n;
}

const HTTP_STATUS: Partial<Record<CridError['kind'], number>> = {
  InvalidArgument: 400,
  NotFound: 404,
  FailedPrecondition: 412,
  Unavailable: 503,
  DeadlineExceeded: 504,
};

function statusOf(err: unknown): number {
  return (err instanceof CridError && HTTP_STATUS[err.kind]) || 500;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}
