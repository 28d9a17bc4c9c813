// Prepares a hybrid cgroup host for crun exactly as the README ("crun on hosts with cgroup v1 and v2
// mixed") tells an admin to, and undoes only that. crun 1.8 refuses every container on a host that
// mixes v1 hierarchies with a cgroup2 that holds controllers; runc does not mind. Moving each such
// controller (hugetlb on these machines) to a v1 hierarchy of its own makes both layouts the same
// for crun, so every test runs on both.
//
// The test runner's globalSetup, the conformance runner and the benchmarks call
// `prepareHostForCrun()` and the undo it returns. Runs on one machine share the move: a shared state
// file counts the live holders, and only the last one to finish undoes it.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

export interface ControllerMove {
  controller: string;
  /** The v1 hierarchy's mount point, e.g. /sys/fs/cgroup/hugetlb. */
  mountpoint: string;
}

interface MountEntry {
  mountpoint: string;
  type: string;
  options: string[];
}

/** What the decision needs from the host; tests state any host they like. */
export interface CgroupHostView {
  /** /proc/self/mounts */
  mounts(): string;
  /** The cgroup.controllers file of the cgroup2 mounted at `mountpoint`. */
  controllers(mountpoint: string): string;
}

/** The host operations `prepareHostForCrun` performs; the real ones by default. */
export interface HostOps extends CgroupHostView {
  mount(move: ControllerMove): Promise<void>;
  unmount(move: ControllerMove): Promise<void>;
  /** Where the shared state file and its lock live. */
  stateDir: string;
  /** Whether a holder process still runs. */
  alive(pid: number): boolean;
  pid: number;
  report(line: string): void;
}

function parseMounts(text: string): MountEntry[] {
  const unescapeOctal = (s: string) =>
    s.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
  return text
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields.length >= 4)
    .map(([, mountpoint, type, options]) => ({
      mountpoint: unescapeOctal(mountpoint!),
      type: type!,
      options: options!.split(','),
    }));
}

/**
 * The controllers crun needs moved from cgroup2 to v1 hierarchies, with their mount points beside the
 * other v1 ones. None on a pure v1 or pure v2 host, nor on a hybrid host whose cgroup2 holds none.
 */
export function plannedMoves(view: CgroupHostView): ControllerMove[] {
  const mounts = parseMounts(view.mounts());
  const unified = cgroup2Mountpoint(view);
  if (unified === undefined || !mounts.some((m) => m.type === 'cgroup')) return [];
  const base = path.posix.dirname(unified);
  return view
    .controllers(unified)
    .split(/\s+/)
    .filter((c) => c !== '')
    .map((controller) => ({ controller, mountpoint: path.posix.join(base, controller) }));
}

/**
 * Removes every cgroup below a v1 hierarchy's root, deepest first (the runtimes leave their parent
 * cgroups behind). A hierarchy unmounted with children stays alive, and its controller stays out of
 * cgroup2 until reboot: so this throws, naming them, when any cannot go (a process still in it).
 */
export function removeChildCgroups(root: string): void {
  const busy: string[] = [];
  const visit = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const child = path.join(dir, entry.name);
      visit(child);
      try {
        fs.rmdirSync(child);
      } catch (err) {
        busy.push(`${child}: ${(err as NodeJS.ErrnoException).code}`);
      }
    }
  };
  visit(root);
  if (busy.length > 0) throw new Error(`cgroups still in use under ${root}, left mounted: ${busy.join(', ')}`);
}

function cgroup2Mountpoint(view: CgroupHostView): string | undefined {
  return parseMounts(view.mounts()).find((m) => m.type === 'cgroup2')?.mountpoint;
}

export const realHostOps: HostOps = {
  mounts: () => fs.readFileSync('/proc/self/mounts', 'utf8'),
  controllers: (mountpoint) => fs.readFileSync(path.join(mountpoint, 'cgroup.controllers'), 'utf8'),
  async mount(move) {
    fs.mkdirSync(move.mountpoint, { recursive: true });
    await execa('mount', ['-t', 'cgroup', '-o', move.controller, 'none', move.mountpoint]);
  },
  async unmount(move) {
    removeChildCgroups(move.mountpoint);
    await onlyRootCgroupLeft(move.controller);
    await execa('umount', [move.mountpoint]);
    fs.rmdirSync(move.mountpoint);
    await controllerBackInCgroup2(realHostOps, move.controller);
  },
  stateDir: '/run',
  alive(pid) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  },
  pid: process.pid,
  report: (line) => process.stderr.write(`host-cgroups: ${line}\n`),
};

/**
 * A removed cgroup lingers (dying) until its last reference goes, and the kernel destroys a v1
 * hierarchy only if it has no child cgroup when it is unmounted: unmounted earlier, the hierarchy
 * stays alive and keeps the controller from cgroup2 until reboot. /proc/cgroups counts them.
 */
async function onlyRootCgroupLeft(controller: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const line = fs
      .readFileSync('/proc/cgroups', 'utf8')
      .split('\n')
      .find((l) => l.split('\t')[0] === controller);
    if (line === undefined || Number(line.split('\t')[2]) <= 1) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(
    `the v1 ${controller} hierarchy still has child cgroups 10 s after they were removed; it stays mounted`,
  );
}

/** The kernel hands a controller back to cgroup2 once its v1 hierarchy is destroyed, not at once. */
async function controllerBackInCgroup2(ops: CgroupHostView, controller: string): Promise<void> {
  const unified = cgroup2Mountpoint(ops);
  if (unified === undefined) return;
  for (let i = 0; i < 100; i++) {
    if (ops.controllers(unified).split(/\s+/).includes(controller)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(
    `${controller} did not return to cgroup2 (${unified}/cgroup.controllers) after its v1 hierarchy was unmounted`,
  );
}

interface SharedState {
  /** Moves made by a holder and not undone yet. */
  moves: ControllerMove[];
  holders: number[];
}

/**
 * Moves cgroup2's controllers to v1 hierarchies when this host needs it for crun, and returns the
 * undo. The last live holder's undo removes the hierarchies' child cgroups deepest first, unmounts
 * them and checks cgroup2 lists the controllers again; a host that needed nothing is left alone.
 */
export async function prepareHostForCrun(ops: HostOps = realHostOps): Promise<() => Promise<void>> {
  await withState(ops, async (state) => {
    state.holders = state.holders.filter((pid) => ops.alive(pid));
    for (const move of plannedMoves(ops)) {
      ops.report(
        `mounting a v1 ${move.controller} hierarchy at ${move.mountpoint}: crun refuses hybrid hosts whose cgroup2 holds controllers`,
      );
      await ops.mount(move);
      if (!state.moves.some((m) => m.mountpoint === move.mountpoint)) state.moves.push(move);
    }
    if (state.moves.length > 0) state.holders.push(ops.pid);
  });
  return () =>
    withState(ops, async (state) => {
      state.holders = state.holders.filter((pid) => pid !== ops.pid && ops.alive(pid));
      if (state.holders.length > 0) return;
      while (state.moves.length > 0) {
        const move = state.moves[0]!;
        ops.report(`undoing the v1 ${move.controller} hierarchy at ${move.mountpoint}`);
        await ops.unmount(move);
        state.moves.shift();
      }
    });
}

/** Runs `change` on the shared state under a lock (mkdir is atomic), and saves what it leaves. */
async function withState(ops: HostOps, change: (state: SharedState) => Promise<void>): Promise<void> {
  const file = path.join(ops.stateDir, 'crid-host-cgroups.json');
  const lock = path.join(ops.stateDir, 'crid-host-cgroups.lock');
  await acquire(ops, lock);
  try {
    const state: SharedState = fs.existsSync(file)
      ? (JSON.parse(fs.readFileSync(file, 'utf8')) as SharedState)
      : { moves: [], holders: [] };
    try {
      await change(state);
    } finally {
      if (state.moves.length === 0) fs.rmSync(file, { force: true });
      else fs.writeFileSync(file, JSON.stringify(state));
    }
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

async function acquire(ops: HostOps, lock: string): Promise<void> {
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(ops.pid));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = lockOwner(lock);
    // A holder killed inside the lock leaves it behind.
    if (owner > 0 && !ops.alive(owner)) fs.rmSync(lock, { recursive: true, force: true });
    else await new Promise((r) => setTimeout(r, 20));
  }
}

/** The pid in the lock; 0 while its owner has not written it yet, or once the lock is gone. */
function lockOwner(lock: string): number {
  try {
    return Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8')) || 0;
  } catch {
    return 0;
  }
}
