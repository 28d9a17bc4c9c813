// One pull's progress: bytes received of the total, logged at most every few seconds, and
// containerd's image_pull_progress_timeout: while requests are in flight, a pull that receives no
// data for that long is cancelled.
import { deadlineExceeded } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { TransferObserver } from './http-transport.ts';

export interface PullProgressOptions {
  log: Logger;
  /** 0 turns the stall check off. */
  stallTimeoutMs: number;
  /** Called once when the pull stalled, with the error to fail it with. */
  onStall: (err: Error) => void;
  logIntervalMs?: number;
}

const LOG_INTERVAL_MS = 5_000;

export class PullProgress implements TransferObserver {
  readonly #opts: PullProgressOptions;
  readonly #timer: NodeJS.Timeout;
  #active = 0;
  #bytes = 0;
  #total = 0;
  #lastData = Date.now();
  #lastLog = Date.now();
  #loggedBytes = 0;

  constructor(opts: PullProgressOptions) {
    this.#opts = opts;
    const tick = Math.min(
      opts.logIntervalMs ?? LOG_INTERVAL_MS,
      opts.stallTimeoutMs > 0 ? Math.max(opts.stallTimeoutMs / 4, 10) : Infinity,
    );
    this.#timer = setInterval(() => this.#check(), tick);
    this.#timer.unref();
  }

  begin(): () => void {
    if (this.#active === 0) this.#lastData = Date.now();
    this.#active++;
    return () => this.#active--;
  }

  received(bytes: number): void {
    this.#bytes += bytes;
    this.#lastData = Date.now();
  }

  /** Bytes the pull will download (config and layers), once the manifest says. */
  expect(total: number): void {
    this.#total = total;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #check(): void {
    const now = Date.now();
    const { stallTimeoutMs, log } = this.#opts;
    if (stallTimeoutMs > 0 && this.#active > 0 && now - this.#lastData >= stallTimeoutMs) {
      this.stop();
      this.#opts.onStall(
        deadlineExceeded(
          `no data from the registry for ${stallTimeoutMs / 1000} s (image_pull_progress_timeout); pull cancelled after ${this.#bytes} bytes`,
        ),
      );
      return;
    }
    if (now - this.#lastLog >= (this.#opts.logIntervalMs ?? LOG_INTERVAL_MS) && this.#bytes !== this.#loggedBytes) {
      this.#lastLog = now;
      this.#loggedBytes = this.#bytes;
      log.info(
        { bytes: this.#bytes, ...(this.#total > 0 && { total: this.#total }), requests: this.#active },
        'pulling image',
      );
    }
  }
}
