import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { textStream } from './log-format.ts';
import { logFormat } from './log.ts';

describe('text log format', () => {
  it('writes ISO time, level word, message and key=value fields', () => {
    const lines: string[] = [];
    const log = pino({ level: 'debug', base: { pid: 1 } }, textStream({ write: (text: string) => lines.push(text) }));
    log
      .child({ rpc: 'RunPodSandbox' })
      .warn({ podId: 'abc', seconds: 0.5, path: '/a b', err: new Error('no "shim"') }, 'rpc failed');
    log.debug('plain');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARN rpc failed rpc=RunPodSandbox podId=abc seconds=0\.5 path="\/a b" err="no \\"shim\\""\n$/,
    );
    expect(lines[1]).toMatch(/^\S+Z DEBUG plain\n$/);
  });
});

describe('log_format', () => {
  it('set: as set; unset: text on a terminal, JSON otherwise', () => {
    expect(logFormat('json', { isTTY: true })).toBe('json');
    expect(logFormat('text', {})).toBe('text');
    expect(logFormat('', { isTTY: true })).toBe('text');
    expect(logFormat('', {})).toBe('json');
  });
});
