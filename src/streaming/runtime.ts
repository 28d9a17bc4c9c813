// What the streaming server needs from the rest of crid. The CRI layer implements it with the
// container's shim (an exec process with its own FIFOs, ResizePty, CloseIO) and, for
// port-forward, a connection dialled inside the pod's network namespace.
import type { Duplex, Readable, Writable } from 'node:stream';

export interface TerminalSize {
  width: number;
  height: number;
}

export interface StreamIO {
  /** Client's stdin; ends when the client closes it (the runtime then closes the process's stdin). */
  stdin?: Readable;
  /** Where the process's stdout goes. The server ends it once the runtime's promise settles. */
  stdout?: Writable;
  /** Where the process's stderr goes (never with tty). */
  stderr?: Writable;
  tty: boolean;
  /** Terminal sizes from the client (tty only), the first one as soon as the client sends it. */
  resize?: AsyncIterable<TerminalSize>;
}

export interface ExecResult {
  exitCode: number;
}

/**
 * Each call runs until the process/connection is done or `signal` aborts (the client went away
 * or the server stops); on abort the runtime must kill and clean up what it started.
 * Errors are thrown as the typed errors of src/errors.ts; the client sees their message.
 */
export interface StreamingRuntime {
  exec(containerId: string, cmd: string[], io: StreamIO, signal: AbortSignal): Promise<ExecResult>;
  attach(containerId: string, io: StreamIO, signal: AbortSignal): Promise<void>;
  /**
   * Relays `stream` (the client's bytes in both directions) to `port` on the pod's loopback.
   * Resolves when the pod side closed; the server then ends `stream`.
   */
  portForward(podSandboxId: string, port: number, stream: Duplex, signal: AbortSignal): Promise<void>;
}
