import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log.ts';
import { TtrpcClient } from '../ttrpc/client.ts';
import { encodeMessage, nowTimestamp } from '../ttrpc/codec.ts';
import { EVENTS_SERVICE, EventServer, FORWARD_REQUEST } from './event-server.ts';
import { ExitMonitor } from './exit-monitor.ts';
import type { TaskEvent } from './task-events.ts';

const RELAY = path.resolve(import.meta.dirname, '../../test/shim/publish-relay');

let dir: string;
let monitor: ExitMonitor;
let server: EventServer;
const seen: TaskEvent[] = [];

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-events-'));
  monitor = new ExitMonitor(silentLogger);
  monitor.subscribe((e) => seen.push(e));
  server = new EventServer(monitor, silentLogger);
  await server.listen(path.join(dir, 'events.sock'));
});
afterEach(async () => {
  seen.length = 0;
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function exitAny(status: number) {
  const value = encodeMessage('containerd.events.TaskExit', {
    container_id: 'c1',
    id: 'c1',
    pid: 42,
    exit_status: status,
    exited_at: { seconds: '1700000000', nanos: 5 },
  });
  return { type_url: 'containerd.events.TaskExit', value };
}

describe('events server', () => {
  it('decodes a forwarded TaskExit and delivers each exit once', async () => {
    const client = await TtrpcClient.connect(path.join(dir, 'events.sock'));
    const forward = (status: number) =>
      client.call(
        EVENTS_SERVICE,
        'Forward',
        encodeMessage(FORWARD_REQUEST, {
          envelope: { timestamp: nowTimestamp(), namespace: 'ns', topic: '/tasks/exit', event: exitAny(status) },
        }),
      );
    expect((await forward(137)).length).toBe(0);
    await forward(137);
    client.close();
    await expect.poll(() => seen.length).toBe(1);
    expect(seen[0]).toMatchObject({
      type: 'exit',
      namespace: 'ns',
      containerId: 'c1',
      id: 'c1',
      pid: 42,
      exitStatus: 137,
      exitedAt: '1700000000000000005',
    });
  });

  it('receives what `crid publish` relays from a legacy shim (flags before and after the word publish)', async () => {
    const stdin = encodeMessage('google.protobuf.Any', exitAny(3));
    const run = promisify(execFile);
    const child = run(RELAY, [
      '--address',
      path.join(dir, 'events.sock'),
      'publish',
      '--topic',
      '/tasks/exit',
      '--namespace',
      'ns',
    ]);
    child.child.stdin!.end(stdin);
    await child;
    await expect.poll(() => seen.length).toBe(1);
    expect(seen[0]).toMatchObject({ type: 'exit', containerId: 'c1', exitStatus: 3 });
  });
});
