// The client side of the control socket, for `crid config reload`, `crid check --deep`,
// `crid runtimeclass --measure` and `crid images import`.
import { http } from '../util/http-modules.ts';
import type { Readable } from 'node:stream';
import type { ReloadResult } from '../config/reload.ts';
import type { CheckResult } from '../handler-health/self-check.ts';
import type { MeasureReport } from '../handler-health/overhead.ts';
import type { ImportedImage } from './control-server.ts';
import { errorFromStatus, unavailable } from '../errors.ts';

const GRPC_CODE_BY_HTTP: Record<number, number> = { 400: 3, 404: 5, 412: 9, 503: 14, 504: 4 };

export class ControlClient {
  private readonly socketPath: string;
  private readonly timeoutMs: number;

  constructor(socketPath: string, timeoutMs = 10 * 60_000) {
    this.socketPath = socketPath;
    this.timeoutMs = timeoutMs;
  }

  reload(): Promise<ReloadResult> {
    return this.call('POST', '/reload') as Promise<ReloadResult>;
  }

  async check(handler: string | undefined, deep: boolean): Promise<CheckResult[]> {
    return (
      (await this.call('POST', `/check?${query({ handler, deep: deep ? '1' : undefined })}`)) as {
        results: CheckResult[];
      }
    ).results;
  }

  async health(): Promise<CheckResult[]> {
    return ((await this.call('GET', '/health')) as { results: CheckResult[] }).results;
  }

  async measure(handler: string | undefined, pods: number): Promise<MeasureReport[]> {
    return (
      (await this.call('POST', `/measure?${query({ handler, pods: String(pods) })}`)) as { reports: MeasureReport[] }
    ).reports;
  }

  /** Sends the archive as the request body; the daemon reads and stores it as it arrives. */
  async importImages(archive: Readable): Promise<ImportedImage[]> {
    return ((await this.call('POST', '/images/import', archive)) as { images: ImportedImage[] }).images;
  }

  private call(method: string, path: string, upload?: Readable): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath: this.socketPath, method, path, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let body: unknown;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            return reject(unavailable(`crid answered ${method} ${path} with status ${res.statusCode} and no JSON`));
          }
          if (res.statusCode === 200) return resolve(body);
          const message = (body as { error?: string }).error ?? `status ${res.statusCode}`;
          reject(errorFromStatus(GRPC_CODE_BY_HTTP[res.statusCode ?? 500] ?? 13, message));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs / 1000} s`)));
      req.on('error', (err) =>
        reject(unavailable(`cannot reach the running crid at ${this.socketPath}: ${err.message}`)),
      );
      if (upload === undefined) {
        req.end();
        return;
      }
      upload.on('error', (err) => {
        req.destroy();
        reject(err);
      });
      upload.pipe(req);
    });
  }
}

function query(params: Record<string, string | undefined>): string {
  return new URLSearchParams(
    Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined),
  ).toString();
}
