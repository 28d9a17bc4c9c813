import { describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { Metadata } from '@grpc/grpc-js';
import { pino } from 'pino';
import { silentLogger } from '../log.ts';
import { notFound } from '../errors.ts';
import { instrumentUnary } from './instrument.ts';
import { OVERSIZED_METADATA_HEADER } from './authority-rewrite.ts';

function call(request: object, metadata = new Metadata()) {
  return Object.assign(new EventEmitter(), { request, metadata, cancelled: false });
}

function invoke(
  wrapped: ReturnType<typeof instrumentUnary>,
  request: object,
  metadata?: Metadata,
): Promise<{ err: unknown; res: unknown }> {
  return new Promise((resolve) => wrapped(call(request, metadata), (err, res) => resolve({ err, res })));
}

describe('instrumentUnary', () => {
  it('answers Unavailable until recovery is done, then runs the handler', async () => {
    let ready = false;
    const observed: Array<[string, number, string]> = [];
    const wrapped = instrumentUnary('ListPodSandbox', async () => ({ ok: true }), {
      log: silentLogger,
      isReady: () => ready,
      observe: (rpc, code, _seconds, handler) => observed.push([rpc, code, handler]),
      handlerOf: () => 'runc',
    });
    expect((await invoke(wrapped, {})).err).toMatchObject({ code: 14, details: expect.stringContaining('recovering') });
    ready = true;
    expect(await invoke(wrapped, {})).toEqual({ err: null, res: { ok: true } });
    expect(observed).toEqual([
      ['ListPodSandbox', 14, 'runc'],
      ['ListPodSandbox', 0, 'runc'],
    ]);
  });

  it('answers Version while recovery runs, and Status only after it', async () => {
    const version = instrumentUnary('Version', async () => ({ runtime_name: 'crid' }), {
      log: silentLogger,
      isReady: () => false,
    });
    const status = instrumentUnary('Status', async () => ({ ok: true }), { log: silentLogger, isReady: () => false });
    expect(await invoke(version, {})).toEqual({ err: null, res: { runtime_name: 'crid' } });
    expect((await invoke(status, {})).err).toMatchObject({ code: 14 });
  });

  it('logs a finished call at debug with its duration', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
    const wrapped = instrumentUnary('Version', async () => ({ ok: true }), { log, isReady: () => true });
    await invoke(wrapped, {});
    const done = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'rpc done');
    expect(done).toMatchObject({ level: 20, rpc: 'Version', seconds: expect.any(Number) });
    expect(done.seconds).toBeGreaterThanOrEqual(0);
  });

  it('maps typed errors to their gRPC code and message', async () => {
    const wrapped = instrumentUnary(
      'PodSandboxStatus',
      async () => {
        throw notFound('pod sandbox "x" not found');
      },
      { log: silentLogger, isReady: () => true },
    );
    expect((await invoke(wrapped, { pod_sandbox_id: 'x' })).err).toMatchObject({
      code: 5,
      details: 'pod sandbox "x" not found',
    });
  });

  it('reports an unexpected exception as UNKNOWN without crashing', async () => {
    const wrapped = instrumentUnary(
      'Status',
      async () => {
        throw new TypeError('boom');
      },
      { log: silentLogger, isReady: () => true },
    );
    expect((await invoke(wrapped, {})).err).toMatchObject({ code: 2, details: 'boom' });
  });

  it('refuses a call whose metadata the connection took out for its size, without running the handler', async () => {
    let ran = false;
    const wrapped = instrumentUnary(
      'ListPodSandbox',
      async () => {
        ran = true;
        return {};
      },
      { log: silentLogger, isReady: () => true },
    );
    const metadata = new Metadata();
    metadata.set(OVERSIZED_METADATA_HEADER, '1049168');
    const { err } = await invoke(wrapped, {}, metadata);
    expect(err).toMatchObject({
      code: 8,
      details: "request metadata of 1049168 bytes exceeds crid's limit of 65536 bytes",
    });
    expect(ran).toBe(false);
  });
});
