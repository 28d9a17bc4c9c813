import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { CriLogWriter, LineSplitter, formatRecord, rfc3339Nano } from './cri-log.ts';

describe('rfc3339Nano', () => {
  it('trims trailing zeros of the fraction like Go', () => {
    expect(rfc3339Nano(1_700_000_000_123_400_000n)).toBe('2023-11-14T22:13:20.1234Z');
    expect(rfc3339Nano(1_700_000_000_000_000_001n)).toBe('2023-11-14T22:13:20.000000001Z');
    expect(rfc3339Nano(1_700_000_000_000_000_000n)).toBe('2023-11-14T22:13:20Z');
  });
});

describe('LineSplitter', () => {
  it('emits full lines, keeps the tail, and cuts long lines into partial records', () => {
    const s = new LineSplitter(4);
    expect(s.push(Buffer.from('ab\ncdefgh'))).toEqual([
      { text: Buffer.from('ab'), partial: false },
      { text: Buffer.from('cdef'), partial: true },
    ]);
    expect(s.push(Buffer.from('i\r\n'))).toEqual([{ text: Buffer.from('ghi'), partial: false }]);
    expect(s.push(Buffer.from('tail'))).toEqual([{ text: Buffer.from('tail'), partial: true }]);
    expect(s.push(Buffer.from('x'))).toEqual([]);
    expect(s.end()).toEqual([{ text: Buffer.from('x'), partial: true }]);
  });

  it('handles a line of exactly the maximum', () => {
    const s = new LineSplitter(3);
    expect(s.push(Buffer.from('abc\n'))).toEqual([{ text: Buffer.from('abc'), partial: false }]);
  });
});

describe('CriLogWriter', () => {
  it('writes both streams in CRI format and continues into a new file after reopen', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crilog-'));
    const file = path.join(dir, '0.log');
    const writer = new CriLogWriter(file, () => 1_700_000_000_500_000_000n);
    const out = new PassThrough();
    const err = new PassThrough();
    writer.attach(out, 'stdout');
    writer.attach(err, 'stderr');
    out.write('hello\n');
    err.write('oops\n');
    await new Promise((r) => setImmediate(r));
    fs.renameSync(file, `${file}.1`);
    writer.reopen();
    out.write('after\n');
    out.end();
    err.end();
    await writer.done();
    expect(fs.readFileSync(`${file}.1`, 'utf8')).toBe(
      '2023-11-14T22:13:20.5Z stdout F hello\n2023-11-14T22:13:20.5Z stderr F oops\n',
    );
    expect(fs.readFileSync(file, 'utf8')).toBe('2023-11-14T22:13:20.5Z stdout F after\n');
    fs.rmSync(dir, { recursive: true });
  });

  it('gives output listeners the bytes as written while the log waits for the end of the line', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crilog-'));
    const file = path.join(dir, '0.log');
    const writer = new CriLogWriter(file, () => 0n);
    const out = new PassThrough();
    writer.attach(out, 'stdout');
    const seen: string[] = [];
    const unsubscribe = writer.onOutput((stream, chunk) => seen.push(`${stream}:${chunk.toString()}`));
    out.write('hello');
    out.write(' tty\r\n');
    await new Promise((r) => setImmediate(r));
    unsubscribe();
    out.end('unseen\n');
    await writer.done();
    expect(seen).toEqual(['stdout:hello', 'stdout: tty\r\n']);
    expect(fs.readFileSync(file, 'utf8')).toBe(
      '1970-01-01T00:00:00Z stdout F hello tty\n1970-01-01T00:00:00Z stdout F unseen\n',
    );
    fs.rmSync(dir, { recursive: true });
  });

  it('formats a partial record with P', () => {
    expect(formatRecord(0n, 'stderr', true, Buffer.from('x')).toString()).toBe('1970-01-01T00:00:00Z stderr P x\n');
  });
});

describe('CriLogWriter on FIFOs', () => {
  it('copies what a writer left in the FIFO when finished; a last line without newline is partial', async () => {
    const { execFileSync } = await import('node:child_process');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crilog-fifo-'));
    const fifo = path.join(dir, 'out');
    execFileSync('mkfifo', [fifo]);
    const file = path.join(dir, 'c.log');
    const writer = new CriLogWriter(file, () => 0n);
    writer.attachFifo(fifo, 'stdout');
    const w = fs.openSync(fifo, fs.constants.O_WRONLY);
    fs.writeSync(w, 'one\ntwo');
    fs.closeSync(w);
    writer.finish();
    await writer.done();
    expect(fs.readFileSync(file, 'utf8')).toBe(
      '1970-01-01T00:00:00Z stdout F one\n1970-01-01T00:00:00Z stdout P two\n',
    );
    fs.rmSync(dir, { recursive: true });
  });
});

describe('LineSplitter without a limit', () => {
  it('never cuts a line', () => {
    const s = new LineSplitter(Number.POSITIVE_INFINITY);
    expect(s.push(Buffer.alloc(100_000, 0x61))).toEqual([]);
    expect(s.push(Buffer.from('\n'))).toEqual([{ text: Buffer.alloc(100_000, 0x61), partial: false }]);
  });
});
