// Copying bytes between peers that may break at any moment (clients, child processes, sockets).
// In Node an 'error' event nobody listens to is an uncaught exception; here a broken peer ends
// only the copy it takes part in.
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../log.ts';

export interface RelayOptions {
  /** What is copied, for the debug log. */
  what: string;
  /** End `to` when `from` ends (default true). */
  end?: boolean;
  /** Runs once, after the first error on either side. */
  onError?: (err: Error) => void;
}

/**
 * Pipes `from` into `to`. An error on either side stops the copy and is logged at debug: how the
 * operation ended is the caller's business (an exit status, a closed session). Returns `stop`.
 */
export function relay(from: Readable, to: Writable, log: Logger, options: RelayOptions): () => void {
  let failed = false;
  const stop = () => from.unpipe(to);
  const onError = (err: Error) => {
    stop();
    if (failed) return;
    failed = true;
    log.debug({ err }, `${options.what}: stream error`);
    options.onError?.(err);
  };
  // The listeners outlive the copy: a peer may still fail after stop().
  from.on('error', onError);
  to.on('error', onError);
  from.pipe(to, { end: options.end ?? true });
  return stop;
}
