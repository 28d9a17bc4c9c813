// Named pipes for shim logs and process stdio. Node has no mkfifo(2): the coreutils tool does it.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { execa } from 'execa';
import { wrap } from '../errors.ts';
import type { Logger } from '../log.ts';

export async function mkfifo(fifoPath: string, mode = 0o700): Promise<void> {
  try {
    await execa('mkfifo', ['-m', mode.toString(8), fifoPath]);
  } catch (err) {
    throw wrap(err, `cannot create FIFO ${fifoPath}`);
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

/** Copies every line a FIFO receives into crid's log until closed. */
export function drainFifoToLog(fifoPath: string, log: Logger): net.Socket {
  const reader = openFifoReader(fifoPath);
  reader.on('error', (err) => log.debug({ err, fifo: fifoPath }, 'FIFO read failed'));
  readline.createInterface({ input: reader }).on('line', (line) => {
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
export async function createStdioFifos(dir: string, id: string, withStdin = false): Promise<StdioFifos> {
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
  const fifos = {
    stdin: withStdin ? path.join(dir, `${id}-stdin`) : '',
    stdout: path.join(dir, `${id}-stdout`),
    stderr: path.join(dir, `${id}-stderr`),
  };
  for (const fifo of Object.values(fifos)) if (fifo) await mkfifo(fifo);
  return fifos;
}
