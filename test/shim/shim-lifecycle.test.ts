// Real shims, real runtimes: containerd-shim-runc-v2 with runc and with crun, and the legacy
// containerd-shim with runc, each driving a busybox container through a full lifecycle.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mountsUnder } from '../../src/runtime/bundle.ts';
import type { RuntimeHandler } from '../../src/config/model.ts';
import { processSpec, testSpec } from './spec.ts';
import { CRI } from '../../src/oci/annotations.ts';
import { ShimHarness, handler, isAlive } from './harness.ts';
import { socketPath } from '../../src/ttrpc/client.ts';

// The sockets of this file's shims, which the 1.6 runc shim can leave behind when it is killed. Only
// these are removed: other shims on the host (another crid's, containerd's) keep theirs.
const shimSockets = new Set<string>();

afterAll(() => {
  for (const sock of shimSockets) fs.rmSync(sock, { force: true });
});

let h: ShimHarness;
beforeEach(async () => {
  h = new ShimHarness();
  await h.start();
});
afterEach(async () => {
  await h.cleanup();
});

function cases(): Array<[string, () => RuntimeHandler]> {
  return [
    [
      'runc via containerd-shim-runc-v2',
      () =>
        handler('runc', 'io.containerd.runc.v2', {
          options: { BinaryName: 'runc', Root: path.join(h.dir, 'runc-root') },
        }),
    ],
    [
      'crun via containerd-shim-runc-v2',
      () =>
        handler('crun', 'io.containerd.runc.v2', {
          options: { BinaryName: '/usr/bin/crun', Root: path.join(h.dir, 'crun-root') },
        }),
    ],
    [
      'runc via the legacy containerd-shim',
      () =>
        handler('legacy', 'io.containerd.runtime.v1.linux', {
          runtime_engine: 'runc',
          runtime_root: path.join(h.dir, 'v1-root'),
        }),
    ],
  ];
}

async function createSleeper(hd: RuntimeHandler, id: string, sandboxId?: string) {
  const { io } = await h.stdio(id);
  const shim = await h.manager.startTask({
    handler: hd,
    id,
    spec: testSpec(['/bin/sleep', '300'], h.cgroupsPath(id), sandboxId ? { [CRI.sandboxId]: sandboxId } : {}),
    rootfs: [{ type: 'bind', source: h.rootfs, options: ['rbind', 'rw'] }],
    io,
  });
  shimSockets.add(socketPath(shim.address));
  return shim;
}

describe.each(cases())('%s', (_name, makeHandler) => {
  it('runs create → start → exec → kill → exit event → delete → shutdown and leaves nothing', async () => {
    const hd = makeHandler();
    const id = 'ctr1';
    const shim = await createSleeper(hd, id);
    const { task } = shim;
    expect((await task.state(id)).status).toBe('CREATED');
    const { pid } = await task.start(id);
    const state = await task.state(id);
    expect(state.status).toBe('RUNNING');
    expect(state.pid).toBe(pid);
    expect(isAlive(pid)).toBe(true);
    expect(isAlive(shim.shimPid)).toBe(true);

    const exec = await h.stdio('exec1');
    await task.exec({ id, execId: 'exec1', io: exec.io, process: processSpec(['/bin/echo', 'hi']) });
    const exitOfExec = h.monitor.waitForExit(id, 'exec1');
    await task.start(id, 'exec1');
    expect((await exitOfExec).exitStatus).toBe(0);
    await expect.poll(() => exec.stdout.text()).toBe('hi\n');
    await task.delete(id, 'exec1');

    const exit = h.monitor.waitForExit(id);
    await task.kill(id, 9);
    expect((await exit).exitStatus).toBe(137);
    // The v1 shim publishes through a `crid publish` process of its own, which takes a while to start on a busy machine.
    await expect
      .poll(() => h.shimEvents.some((e) => e.type === 'exit' && e.containerId === id && e.exitStatus === 137), {
        timeout: 15_000,
      })
      .toBe(true);
    if (task.kind === 'v2') expect(h.shimEvents.map((e) => e.type)).toContain('start');

    const deleted = await task.delete(id);
    expect(deleted.exitStatus).toBe(137);
    await h.manager.removeTask(id);

    await expect.poll(() => isAlive(shim.shimPid), { timeout: 15_000 }).toBe(false);
    expect(isAlive(pid)).toBe(false);
    expect(h.leftovers()).toEqual([]);
    expect(mountsUnder(h.dir)).toEqual([]);
    expect(fs.existsSync(shim.bundle)).toBe(false);
  });

  it('reports the task exited when its shim is SIGKILLed, and cleanup leaves nothing', async () => {
    const hd = makeHandler();
    const id = 'victim';
    const shim = await createSleeper(hd, id);
    const { pid } = await shim.task.start(id);
    const exit = h.monitor.waitForExit(id);
    process.kill(shim.shimPid, 'SIGKILL');
    const reported = await exit;
    expect(reported.containerId).toBe(id);
    if (shim.task.kind === 'v2') expect(reported.exitStatus).toBe(137);
    await expect.poll(() => isAlive(pid), { timeout: 15_000 }).toBe(false);
    await h.manager.removeTask(id);
    expect(h.leftovers()).toEqual([]);
    expect(mountsUnder(h.dir)).toEqual([]);
  });
});

describe('grouping', () => {
  it('runs two containers of one pod in one shim v2 process', async () => {
    const hd = handler('runc', 'io.containerd.runc.v2', {
      options: { BinaryName: 'runc', Root: path.join(h.dir, 'runc-root') },
    });
    const sandbox = await createSleeper(hd, 'pod1', 'pod1');
    const app = await createSleeper(hd, 'app1', 'pod1');
    const other = await createSleeper(hd, 'solo', 'pod2');
    expect(app.shimPid).toBe(sandbox.shimPid);
    expect(app.address).toBe(sandbox.address);
    expect(other.shimPid).not.toBe(sandbox.shimPid);
    await app.task.start('app1');
    await sandbox.task.start('pod1');
    expect((await app.task.state('app1')).status).toBe('RUNNING');
    // As crid's stop does: a task is deleted once its exit has come, never while the kill is in flight.
    for (const id of ['app1', 'pod1', 'solo']) {
      const exited = h.monitor.waitForExit(id);
      await h.manager.get(id)!.task.kill(id, 9);
      await exited;
    }
    await h.manager.removeTask('app1');
    expect(isAlive(sandbox.shimPid)).toBe(true);
    await h.manager.removeTask('pod1');
    await h.manager.removeTask('solo');
    await expect.poll(() => isAlive(sandbox.shimPid), { timeout: 15_000 }).toBe(false);
    await expect.poll(() => isAlive(other.shimPid), { timeout: 15_000 }).toBe(false);
    expect(h.leftovers()).toEqual([]);
  });
});
