// The launcher's paths through a shim v2 that is not runc: a fake kata shim that can misbehave.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BOOTSTRAP_FILE } from '../../src/runtime/shim-v2.ts';
/** Read by test/fake-shim/fake-shim.ts from config.json. */
const MODE_ANNOTATION = 'fake-shim/mode';
import { ShimHarness, handler, isAlive } from './harness.ts';
import { testSpec } from './spec.ts';
import { CRI } from '../../src/oci/annotations.ts';

const FAKE_SHIM = path.resolve(import.meta.dirname, '../fake-shim/containerd-shim-fakekata-v2');
const fakeKata = handler('kata', 'io.containerd.fakekata.v2', {
  runtime_path: FAKE_SHIM,
  options: { ConfigPath: '/etc/fake/configuration.toml' },
});

let h: ShimHarness;
beforeEach(async () => {
  h = new ShimHarness({ startTimeoutMs: 3_000 });
  await h.start();
});
afterEach(async () => {
  await h.cleanup();
});

async function startFake(id: string, mode = '') {
  const { io, stdout } = await h.stdio(id);
  const shim = await h.manager.startTask({
    handler: fakeKata,
    id,
    spec: testSpec(['/bin/sh', '-c', 'echo booted; exec sleep 300'], '', {
      [CRI.sandboxId]: id,
      ...(mode ? { [MODE_ANNOTATION]: mode } : {}),
    }),
    rootfs: [{ type: 'bind', source: h.rootfs, options: ['rbind'] }],
    io,
  });
  return { shim, stdout };
}

describe('fake kata shim v2', () => {
  it('runs a task through the bare-address start, with events, and stops cleanly', async () => {
    const { shim, stdout } = await startFake('vm1');
    const { pid } = await shim.task.start('vm1');
    expect((await shim.task.state('vm1')).status).toBe('RUNNING');
    await expect.poll(() => stdout.text()).toBe('booted\n');
    const exit = h.monitor.waitForExit('vm1');
    await shim.task.kill('vm1', 9);
    expect((await exit).exitStatus).toBe(137);
    await expect.poll(() => h.shimEvents.map((e) => e.type)).toEqual(['create', 'start', 'exit']);
    await h.manager.removeTask('vm1');
    await expect.poll(() => isAlive(shim.shimPid)).toBe(false);
    expect(isAlive(pid)).toBe(false);
    expect(h.leftovers()).toEqual([]);
  });

  it('accepts the bootstrap JSON form of the address and saves it for reconnect', async () => {
    const { shim } = await startFake('vm2', 'json');
    const saved = JSON.parse(fs.readFileSync(path.join(shim.bundle, BOOTSTRAP_FILE), 'utf8'));
    expect(saved).toEqual({ version: 2, address: shim.address, protocol: 'ttrpc' });
    expect((await shim.task.connect('vm2')).shimPid).toBe(shim.shimPid);
  });

  it('fails with the shim stderr when start prints garbage', async () => {
    await expect(startFake('bad1', 'garbage')).rejects.toThrow(/printed no address.*the hypervisor refused to boot/s);
    expect(fs.existsSync(h.manager.bundleFor('bad1'))).toBe(false);
  });

  it('times out a start that hangs and kills it', async () => {
    await expect(startFake('bad2', 'hang')).rejects.toMatchObject({
      kind: 'DeadlineExceeded',
      message: expect.stringMatching(/did not finish within 3000 ms; killed/),
    });
    await expect.poll(() => h.leftovers()).toEqual([]);
  });

  it('reports a shim that exits right after start', async () => {
    await expect(startFake('bad3', 'exit-early')).rejects.toMatchObject({ kind: 'Unavailable' });
    expect(h.leftovers()).toEqual([]);
  });

  it('passes a Create error through and stops the shim', async () => {
    await expect(startFake('bad4', 'create-error')).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringMatching(/the VM failed to boot/),
    });
    await expect.poll(() => h.leftovers()).toEqual([]);
    expect(fs.existsSync(h.manager.bundleFor('bad4'))).toBe(false);
  });

  it('reconnects after a crid restart, and reports the task exited when the shim is gone', async () => {
    const { shim } = await startFake('vm3');
    await shim.task.start('vm3');
    await h.manager.close();
    const again = await h.manager.reconnect('vm3');
    expect(again?.shimPid).toBe(shim.shimPid);
    expect((await again!.task.state('vm3')).status).toBe('RUNNING');
    await h.manager.close();
    process.kill(shim.shimPid, 'SIGKILL');
    await expect.poll(() => isAlive(shim.shimPid)).toBe(false);
    const exit = h.monitor.waitForExit('vm3');
    expect(await h.manager.reconnect('vm3')).toBeUndefined();
    expect((await exit).exitStatus).toBe(137);
    await h.manager.removeTask('vm3');
    expect(h.leftovers()).toEqual([]);
  });
});
