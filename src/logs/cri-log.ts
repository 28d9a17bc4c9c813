// Container logs in the CRI format kubelet parses:
//   <RFC3339Nano time> <stdout|stderr> <P|F> <text>\n
// A line longer than the maximum is cut into partial (P) records; the last piece is full (F).
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { FifoReader } from '../runtime/fifo.ts';

export type LogStream = 'stdout' | 'stderr';

/** containerd's default max_container_log_line_size. */
export const MAX_LOG_LINE_BYTES = 16 * 1024;

/** Go's time.RFC3339Nano in UTC: fraction with trailing zeros removed, none when whole. */
export function rfc3339Nano(nanos: bigint): string {
  const seconds = nanos / 1_000_000_000n;
  const fraction = (nanos % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${base}${fraction ? `.${fraction}` : ''}Z`;
}

export function formatRecord(nanos: bigint, stream: LogStream, partial: boolean, text: Buffer): Buffer {
  const head = Buffer.from(`${rfc3339Nano(nanos)} ${stream} ${partial ? 'P' : 'F'} `);
  return Buffer.concat([head, text, Buffer.from('\n')]);
}

/** Splits a stream's bytes into records; keeps the unterminated tail until more bytes or the end. */
export class LineSplitter {
  private pending: Buffer = Buffer.alloc(0);
  private readonly maxBytes: number;

  constructor(maxBytes = MAX_LOG_LINE_BYTES) {
    this.maxBytes = maxBytes;
  }

  push(chunk: Buffer): Array<{ text: Buffer; partial: boolean }> {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const records: Array<{ text: Buffer; partial: boolean }> = [];
    for (;;) {
      const newline = this.pending.indexOf(0x0a);
      if (newline >= 0 && newline <= this.maxBytes) {
        records.push({ text: stripCarriageReturn(this.pending.subarray(0, newline)), partial: false });
        this.pending = this.pending.subarray(newline + 1);
      } else if (this.pending.length >= this.maxBytes) {
        records.push({ text: this.pending.subarray(0, this.maxBytes), partial: true });
        this.pending = this.pending.subarray(this.maxBytes);
      } else {
        return records;
      }
    }
  }

  /**
   * At the end of the stream an unterminated tail is a partial record, as in containerd: kubelet
   * joins P records with what follows, so `kubectl logs` prints no newline the container never wrote.
   */
  end(): Array<{ text: Buffer; partial: boolean }> {
    if (this.pending.length === 0) return [];
    const text = this.pending;
    this.pending = Buffer.alloc(0);
    return [{ text, partial: true }];
  }
}

function stripCarriageReturn(line: Buffer): Buffer {
  return line.length && line[line.length - 1] === 0x0d ? line.subarray(0, -1) : line;
}

/**
 * Writes one container's stdout and stderr into its log file. ReopenContainerLog calls reopen()
 * after kubelet renamed the file for rotation.
 */
export class CriLogWriter {
  private readonly file: string;
  private fd: number;
  private readonly now: () => bigint;
  private open = 0;
  private closed: Promise<void>;
  private resolveClosed!: () => void;
  private readonly fifos: Array<{ reader: FifoReader; stream: LogStream; splitter: LineSplitter }> = [];
  /** Live attaches: they get the bytes as the process wrote them, not the log's line records. */
  private readonly listeners = new Set<(stream: LogStream, chunk: Buffer) => void>();

  constructor(file: string, now: () => bigint = () => BigInt(Date.now()) * 1_000_000n) {
    this.file = file;
    this.now = now;
    this.fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o640);
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  /** Copies a stream into the log until it ends; the writer closes after its last source ends. */
  attach(source: Readable, stream: LogStream, maxLineBytes = MAX_LOG_LINE_BYTES): void {
    const splitter = new LineSplitter(maxLineBytes);
    this.open++;
    source.on('data', (chunk: Buffer) => this.take(stream, splitter, chunk));
    const finish = () => {
      this.write(stream, splitter.end());
      if (--this.open === 0) this.close();
    };
    source.once('end', finish);
    source.once('error', finish);
  }

  /** Copies a process's stdio FIFO into the log until finish(). */
  attachFifo(fifoPath: string, stream: LogStream, maxLineBytes = MAX_LOG_LINE_BYTES): void {
    const splitter = new LineSplitter(maxLineBytes);
    const reader = new FifoReader(fifoPath, (chunk) => this.take(stream, splitter, chunk));
    this.fifos.push({ reader, stream, splitter });
  }

  /** Copies what is still in the FIFOs, ends partial lines, and closes the file. */
  finish(): void {
    for (const fifo of this.fifos) {
      fifo.reader.finish();
      this.write(fifo.stream, fifo.splitter.end());
    }
    this.fifos.length = 0;
    this.close();
  }

  /** Calls `listener` with every chunk of output from now on; returns the unsubscribe function. */
  onOutput(listener: (stream: LogStream, chunk: Buffer) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private take(stream: LogStream, splitter: LineSplitter, chunk: Buffer): void {
    for (const listener of this.listeners) listener(stream, chunk);
    this.write(stream, splitter.push(chunk));
  }

  private write(stream: LogStream, records: Array<{ text: Buffer; partial: boolean }>): void {
    if (this.fd < 0) return;
    for (const r of records) fs.writeSync(this.fd, formatRecord(this.now(), stream, r.partial, r.text));
  }

  reopen(): void {
    if (this.fd < 0) return;
    const next = fs.openSync(this.file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o640);
    fs.closeSync(this.fd);
    this.fd = next;
  }

  close(): void {
    if (this.fd >= 0) {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
    this.resolveClosed();
  }

  /** Resolves once every source has ended and the file is closed. */
  done(): Promise<void> {
    return this.closed;
  }
}
