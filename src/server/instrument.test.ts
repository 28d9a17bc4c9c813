import { describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { Metadata } from '@grpc/grpc-js';
import { pino } from 'pino';
import { silentLogger } from '../log.ts';
import { notFound } from '../errors.ts';
import { instrumentUnary, type ServingStage } from './instrument.ts';
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
    let stage: ServingStage = 'records';
    const observed: Array<[string, number, string]> = [];
    const wrapped = instrumentUnary('RunPodSandbox', async () => ({ ok: true }), {
      log: silentLogger,
      stage: () => stage,
      observe: (rpc, code, _seconds, handler) => observed.push([rpc, code, handler]),
      handlerOf: () => 'runc',
    });
    expect((await invoke(wrapped, {})).err).toMatchObject({ code: 14, details: expect.stringContaining('recovering') });
    stage = 'ready';
    expect(await invoke(wrapped, {})).toEqual({ err: null, res: { ok: true } });
    expect(observed).toEqual([
      ['RunPodSandbox', 14, 'runc'],
      ['RunPodSandbox', 0, 'runc'],
    ]);
  });

  it('answers Version from the start, lists and statuses once the records are loaded, Status only when ready', async () => {
    let stage: ServingStage = 'starting';
    const answer = (rpc: string) =>
      invoke(
        instrumentUnary(rpc, async () => ({ rpc }), { log: silentLogger, stage: () => stage }),
        {},
      );
    const answered = async (rpcs: string[]) =>
      (await Promise.all(rpcs.map(answer))).map(({ err }) => (err === null ? 'ok' : (err as { code: number }).code));
    const rpcs = ['Version', 'ListPodSandbox', 'ContainerStatus', 'Status', 'RunPodSandbox'];
    expect(await answered(rpcs)).toEqual(['ok', 14, 14, 14, 14]);
    stage = 'records';
    expect(await answered(rpcs)).toEqual(['ok', 'ok', 'ok', 14, 14]);
    stage = 'ready';
    expect(await answered(rpcs)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
  });

  it('logs a finished call at debug with its duration', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
    const wrapped = instrumentUnary('Version', async () => ({ ok: true }), { log, stage: () => 'ready' });
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
      { log: silentLogger, stage: () => 'ready' },
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
      { log: silentLogger, stage: () => 'ready' },
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
      { log: silentLogger, stage: () => 'ready' },
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

  it('aborts the signal of a call cancelled while it runs, not of one answered before its stream closed', async () => {
    const signals: AbortSignal[] = [];
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const wrapped = instrumentUnary(
      'ListPodSandbox',
      async (_req: object, ctx) => {
        signals.push(ctx.signal);
        if (signals.length === 2) await held;
        return {};
      },
      { log: silentLogger, stage: () => 'ready' },
    );
    const answered = call({});
    await new Promise((resolve) => wrapped(answered, resolve));
    answered.emit('cancelled');
    const running = call({});
    const done = new Promise((resolve) => wrapped(running, resolve));
    await new Promise((resolve) => setImmediate(resolve));
    running.emit('cancelled');
    expect(signals.map((s) => s.aborted)).toEqual([false, true]);
    release();
    await done;
  });
});
