// Feeding Node streams into a process's stdin FIFO (exec and attach), and capping ExecSync's output.
import fs from 'node:fs';
import net from 'node:net';
import type { Readable } from 'node:stream';

/**
 * Feeds `input` into a stdin FIFO. O_RDWR opens without waiting for the shim's reader; `onEnd` runs
 * when the client's stream ends (the caller then closes the process's stdin through the shim).
 */
export function pipeIntoFifo(input: Readable, fifoPath: string, onEnd: () => void): () => void {
  const fd = fs.openSync(fifoPath, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  const socket = new net.Socket({ fd, readable: false, writable: true });
  socket.on('error', () => {});
  // Close our writer once the last write has flushed: a FIFO has no shutdown(2) for end() to use,
  // and the process sees EOF only when every writer is gone.
  const end = () => {
    if (socket.writableLength === 0) socket.destroy();
    else socket.once('drain', () => socket.destroy());
    onEnd();
  };
  input.on('data', (chunk: Buffer) => socket.write(chunk));
  input.once('end', end);
  input.once('error', end);
  return () => {
    input.off('end', end);
    input.off('error', end);
    socket.destroy();
  };
}

/** A Writable keeping at most `limit` bytes (ExecSync's output buffers). */
export class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  push(chunk: Buffer): void {
    const room = this.limit - this.size;
    if (room <= 0) return;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(kept);
    this.size += kept.length;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
