// Named pipes for shim logs and process stdio.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { mkfifo as makeFifo } from '../util/libc.ts';
import { wrap } from '../errors.ts';
import type { Logger } from '../log.ts';

export function mkfifo(fifoPaths: string | string[], mode = 0o700): void {
  for (const fifo of typeof fifoPaths === 'string' ? [fifoPaths] : fifoPaths) {
    try {
      makeFifo(fifo, mode);
    } catch (err) {
      throw wrap(err, `cannot create FIFO ${fifo}`);
    }
  }
}

/**
 * Opens the read side without blocking: O_RDWR keeps a writer on the FIFO so it never reports EOF
 * between the shim's writers, and lets a writer's blocking open() return at once.
 */
export function openFifoReader(fifoPath: string): net.Socket {
  const fd = fs.openSync(fifoPath, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  return new net.Socket({ fd, readable: true, writable: false });
}

/**
 * Reads a process's output FIFO. The read side is held O_RDWR, so it never sees EOF between writers;
 * the end comes from finish(), called once the shim has deleted the process: its output is then all
 * in the pipe, and finish() copies what is left synchronously before closing.
 */
export class FifoReader {
  private readonly fd: number;
  private readonly socket: net.Socket;
  private readonly onData: (chunk: Buffer) => void;

  constructor(fifoPath: string, onData: (chunk: Buffer) => void) {
    this.fd = fs.openSync(fifoPath, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
    this.socket = new net.Socket({ fd: this.fd, readable: true, writable: false });
    this.onData = onData;
    this.socket.on('data', onData);
    this.socket.on('error', () => {});
  }

  finish(): void {
    this.socket.pause();
    const buffer = Buffer.alloc(64 * 1024);
    for (;;) {
      let n = 0;
      try {
        n = fs.readSync(this.fd, buffer);
      } catch {
        break;
      }
      if (n <= 0) break;
      this.onData(Buffer.from(buffer.subarray(0, n)));
    }
    this.socket.destroy();
  }
}

/** Copies every line a FIFO receives into crid's log until closed. */
export function drainFifoToLog(fifoPath: string, log: Logger): net.Socket {
  const reader = openFifoReader(fifoPath);
  const failed = (err: Error) => log.debug({ err, fifo: fifoPath }, 'FIFO read failed');
  reader.on('error', failed);
  // readline re-emits its input's errors: they need a listener there too.
  const lines = readline.createInterface({ input: reader });
  lines.on('error', failed);
  lines.on('line', (line) => {
    if (line.trim()) log.info({ shimLog: line }, 'shim');
  });
  return reader;
}

export interface StdioFifos {
  stdin: string;
  stdout: string;
  stderr: string;
}

/** Creates `<dir>/<id>-stdout` and `-stderr` (and `-stdin` when asked) for a process's stdio. */
export function createStdioFifos(dir: string, id: string, withStdin = false): StdioFifos {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fifos = {
    stdin: withStdin ? path.join(dir, `${id}-stdin`) : '',
    stdout: path.join(dir, `${id}-stdout`),
    stderr: path.join(dir, `${id}-stderr`),
  };
  mkfifo(Object.values(fifos).filter(Boolean));
  return fifos;
}
