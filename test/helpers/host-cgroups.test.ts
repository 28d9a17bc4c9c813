// The host preparation for crun, on stated hosts: which controllers move, that runs sharing a host
// share one move and the last one undoes it, and that child cgroups go deepest first.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  plannedMoves,
  prepareHostForCrun,
  removeChildCgroups,
  type ControllerMove,
  type HostOps,
} from './host-cgroups.ts';

const V1 = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids']
  .map((c) => `cgroup /sys/fs/cgroup/${c} cgroup rw,nosuid,nodev,noexec,relatime,${c} 0 0`)
  .join('\n');
const HYBRID = `sysfs /sys sysfs rw 0 0\ntmpfs /sys/fs/cgroup tmpfs rw,mode=755 0 0\n${V1}\ncgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n`;
const UNIFIED = 'sysfs /sys sysfs rw 0 0\ncgroup2 /sys/fs/cgroup cgroup2 rw,nsdelegate 0 0\n';

/** A host whose mount table and cgroup2 controllers change as the fake mount/unmount act on them. */
function fakeHost(mounts: string, controllers: string, stateDir: string, pid: number, alive: Set<number>) {
  const host = { mounts, controllers: controllers.split(' ').filter(Boolean), calls: [] as string[] };
  const ops = (holder: number): HostOps => ({
    mounts: () => host.mounts,
    controllers: (mountpoint) => {
      expect(mountpoint).toMatch(/^\/sys\/fs\/cgroup(\/unified)?$/);
      return `${host.controllers.join(' ')}\n`;
    },
    async mount(move: ControllerMove) {
      host.calls.push(`mount ${move.controller} ${move.mountpoint}`);
      host.mounts += `none ${move.mountpoint} cgroup rw,${move.controller} 0 0\n`;
      host.controllers = host.controllers.filter((c) => c !== move.controller);
    },
    async unmount(move: ControllerMove) {
      host.calls.push(`umount ${move.mountpoint}`);
      host.mounts = host.mounts.replace(`none ${move.mountpoint} cgroup rw,${move.controller} 0 0\n`, '');
      host.controllers.push(move.controller);
    },
    stateDir,
    alive: (p) => alive.has(p),
    pid: holder,
    report: () => {},
  });
  return { host, ops: ops(pid), as: ops };
}

describe('host preparation for crun', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-host-cgroups-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('moves what a hybrid host holds in cgroup2 beside the v1 hierarchies, and nothing elsewhere', () => {
    const view = (mounts: string, controllers: string) => ({ mounts: () => mounts, controllers: () => controllers });
    expect(plannedMoves(view(HYBRID, 'hugetlb\n'))).toEqual([
      { controller: 'hugetlb', mountpoint: '/sys/fs/cgroup/hugetlb' },
    ]);
    expect(plannedMoves(view(HYBRID, 'hugetlb misc\n'))).toEqual([
      { controller: 'hugetlb', mountpoint: '/sys/fs/cgroup/hugetlb' },
      { controller: 'misc', mountpoint: '/sys/fs/cgroup/misc' },
    ]);
    // hugetlb already moved (cgroup2 then lists nothing), or left out of cgroup2 until reboot
    expect(plannedMoves(view(`${HYBRID}none /sys/fs/cgroup/hugetlb cgroup rw,hugetlb 0 0\n`, '\n'))).toEqual([]);
    // pure cgroup v2: crun is at home there
    expect(plannedMoves(view(UNIFIED, 'cpuset cpu io memory hugetlb pids\n'))).toEqual([]);
    // pure cgroup v1
    expect(plannedMoves(view(`tmpfs /sys/fs/cgroup tmpfs rw 0 0\n${V1}\n`, ''))).toEqual([]);
  });

  it('mounts once for runs sharing the host, and the last one to finish undoes it', async () => {
    const alive = new Set([101, 102]);
    const { host, as } = fakeHost(HYBRID, 'hugetlb', tmp(), 101, alive);
    const undoFirst = await prepareHostForCrun(as(101));
    const undoSecond = await prepareHostForCrun(as(102));
    expect(host.calls).toEqual(['mount hugetlb /sys/fs/cgroup/hugetlb']);
    await undoFirst();
    expect(host.calls).toEqual(['mount hugetlb /sys/fs/cgroup/hugetlb']);
    await undoSecond();
    expect(host.calls).toEqual(['mount hugetlb /sys/fs/cgroup/hugetlb', 'umount /sys/fs/cgroup/hugetlb']);
    expect(host.controllers).toEqual(['hugetlb']);
  });

  it('a holder that died does not keep the move; a host prepared by hand is left alone', async () => {
    const alive = new Set([201, 202]);
    const stateDir = tmp();
    const { host, as } = fakeHost(HYBRID, 'hugetlb', stateDir, 201, alive);
    await prepareHostForCrun(as(201));
    alive.delete(201);
    const undo = await prepareHostForCrun(as(202));
    await undo();
    expect(host.calls).toEqual(['mount hugetlb /sys/fs/cgroup/hugetlb', 'umount /sys/fs/cgroup/hugetlb']);
    expect(fs.readdirSync(stateDir)).toEqual([]);

    const byHand = fakeHost(
      `${HYBRID}none /sys/fs/cgroup/hugetlb cgroup rw,hugetlb 0 0\n`,
      '',
      tmp(),
      203,
      new Set([203]),
    );
    await (await prepareHostForCrun(byHand.ops))();
    expect(byHand.host.calls).toEqual([]);
  });

  it('an undo that fails keeps the move recorded, so the next run undoes it', async () => {
    const alive = new Set([301, 302]);
    const stateDir = tmp();
    const { host, as } = fakeHost(HYBRID, 'hugetlb', stateDir, 301, alive);
    const failing = as(301);
    failing.unmount = async () => {
      throw new Error('cgroups still in use');
    };
    await expect((await prepareHostForCrun(failing))()).rejects.toThrow('cgroups still in use');
    await (await prepareHostForCrun(as(302)))();
    expect(host.calls).toEqual(['mount hugetlb /sys/fs/cgroup/hugetlb', 'umount /sys/fs/cgroup/hugetlb']);
    expect(host.controllers).toEqual(['hugetlb']);
  });

  it('removes child cgroups deepest first and keeps the root', () => {
    const root = tmp();
    for (const dir of ['process_api/crid/pod1/c1', 'process_api/crid/pod2', 'other'])
      fs.mkdirSync(path.join(root, dir), { recursive: true });
    fs.writeFileSync(path.join(root, 'tasks'), '');
    removeChildCgroups(root);
    expect(fs.readdirSync(root)).toEqual(['tasks']);
  });

  it('names the cgroups it cannot remove', () => {
    const root = tmp();
    fs.mkdirSync(path.join(root, 'crid/busy'), { recursive: true });
    fs.writeFileSync(path.join(root, 'crid/busy/cgroup.procs'), '1234\n');
    expect(() => removeChildCgroups(root)).toThrow(/still in use.*crid\/busy: ENOTEMPTY/);
  });
});
