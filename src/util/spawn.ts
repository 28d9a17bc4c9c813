// Starting a program with posix_spawn(3), which glibc does with vfork semantics: the child shares
// crid's memory until it execs. Node's child_process forks, copying the page tables of crid's whole
// address space (a V8 heap reserves gigabytes) and blocking the event loop while it does; profiled,
// that was a third of crid's CPU per pod. posix_spawn is called from a thread-pool thread: vfork
// holds the calling thread until the child has exec'd, which on a busy machine took up to 36 ms, and
// the event loop goes on meanwhile. Exits are learnt from SIGCHLD with waitpid on our own pids only,
// as libuv does for its children, so neither takes the other's.
import fs from 'node:fs';
import net from 'node:net';
import { constants } from 'node:os';
import { check, errnoError, libc } from './libc.ts';

const c = {
  pipe2: libc.func('int pipe2(_Out_ int *fds, int flags)'),
  spawnp: libc.func(
    'int posix_spawnp(_Out_ int *pid, const char *file, void *actions, void *attr, const char **argv, const char **envp)',
  ),
  actionsInit: libc.func('int posix_spawn_file_actions_init(void *actions)'),
  actionsDestroy: libc.func('int posix_spawn_file_actions_destroy(void *actions)'),
  addDup2: libc.func('int posix_spawn_file_actions_adddup2(void *actions, int fd, int newfd)'),
  addOpen: libc.func(
    'int posix_spawn_file_actions_addopen(void *actions, int fd, const char *path, int flags, uint32_t mode)',
  ),
  addChdir: libc.func('int posix_spawn_file_actions_addchdir_np(void *actions, const char *path)'),
  attrInit: libc.func('int posix_spawnattr_init(void *attr)'),
  attrSetFlags: libc.func('int posix_spawnattr_setflags(void *attr, short flags)'),
  attrSetSigDefault: libc.func('int posix_spawnattr_setsigdefault(void *attr, void *set)'),
  attrSetSigMask: libc.func('int posix_spawnattr_setsigmask(void *attr, void *set)'),
  sigFillSet: libc.func('int sigfillset(void *set)'),
  sigEmptySet: libc.func('int sigemptyset(void *set)'),
  waitpid: libc.func('int waitpid(int pid, _Out_ int *status, int options)'),
};

const O_CLOEXEC = 0o2000000;
const WNOHANG = 1;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
// glibc's posix_spawn_file_actions_t is 80 bytes, posix_spawnattr_t 336, sigset_t 128: room to spare.
const OPAQUE_BYTES = 512;
/**
 * A safety net beside SIGCHLD, what keeps a short-lived crid command's loop alive until its child
 * ends, and what reaps daemons (within this long of their exit).
 */
const REAP_INTERVAL_MS = 1000;

export interface SpawnOptions {
  /** The child's whole environment. */
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** A pipe crid writes, or /dev/null. */
  stdin: 'pipe' | 'ignore';
  /** In a session of its own (setsid), so that its whole process group can be killed. */
  newSession?: boolean;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Spawned {
  pid: number;
  stdin: net.Socket | undefined;
  stdout: net.Socket;
  stderr: net.Socket;
  exit: Promise<Exit>;
  /** The exit, once stdout and stderr have closed too (child_process's 'close'). */
  closed: Promise<Exit>;
  /** Signals the child while it has not been reaped (a reaped pid may belong to someone else). */
  kill(signal: NodeJS.Signals): void;
}

/** Programs crid runs and waits for (CNI plugins, a shim's start or delete): reaped on SIGCHLD. */
const running = new Map<number, (exit: Exit) => void>();
/**
 * Daemons crid starts and leaves running (shims): reaped by the interval alone, which they do not keep
 * running. On SIGCHLD they would make every exit of a short-lived child cost a call per shim.
 */
const daemons = new Map<number, (exit: Exit) => void>();
let reaper: NodeJS.Timeout | undefined;
const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

function reapFrom(children: Map<number, (exit: Exit) => void>): void {
  const status = [0];
  for (const [pid, done] of children) {
    if (c.waitpid(pid, status, WNOHANG) !== pid) continue;
    children.delete(pid);
    const s = status[0]!;
    done(
      (s & 0x7f) === 0
        ? { code: (s >> 8) & 0xff, signal: null }
        : { code: null, signal: SIGNAL_NAMES.get(s & 0x7f) ?? null },
    );
  }
}

function reap(): void {
  reapFrom(running);
  settle();
}

function reapAll(): void {
  reapFrom(running);
  reapFrom(daemons);
  settle();
}

/** The interval runs while there are children, and keeps the loop alive only for those crid waits for. */
function settle(): void {
  if (!reaper) return;
  if (running.size === 0 && daemons.size === 0) {
    clearInterval(reaper);
    reaper = undefined;
  } else if (running.size > 0) reaper.ref();
  else reaper.unref();
}

let listening = false;

function watch(pid: number, daemon = false): Promise<Exit> {
  if (!listening) {
    // Node's signal watchers do not keep the loop alive; the interval below does, while children run.
    process.on('SIGCHLD', reap);
    listening = true;
  }
  reaper ??= setInterval(reapAll, REAP_INTERVAL_MS);
  const exit = new Promise<Exit>((resolve) => (daemon ? daemons : running).set(pid, resolve));
  // The child may have exited, and its SIGCHLD passed, before the spawn's completion got here.
  reap();
  return exit;
}

function pipe(): [number, number] {
  const fds = [0, 0];
  check(c.pipe2(fds, O_CLOEXEC), 'pipe2', '');
  return [fds[0]!, fds[1]!];
}

/** `NAME=value` entries; C strings end at the first NUL: an argument holding one would be cut short, not refused. */
function envStrings(file: string, args: string[], environment: NodeJS.ProcessEnv, cwd = ''): string[] {
  const env = Object.entries(environment).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  if ([file, ...args, ...env, cwd].some((s) => s.includes('\0'))) {
    throw Object.assign(new TypeError(`spawn ${file}: an argument or environment entry contains a NUL byte`), {
      code: 'ERR_INVALID_ARG_VALUE',
    });
  }
  return env;
}

/** posix_spawn returns its error number; the message is Node's spawn's (`spawn FILE ENOENT`). */
function spawnError(file: string, errno: number): NodeJS.ErrnoException {
  const err = errnoError(errno, `spawn ${file}`, file);
  err.message = `spawn ${file} ${err.code}`;
  return err;
}

function fileActions(stdin: number | undefined, stdout: number, stderr: number, cwd: string | undefined): Buffer {
  const actions = Buffer.alloc(OPAQUE_BYTES);
  c.actionsInit(actions);
  if (stdin === undefined) c.addOpen(actions, 0, '/dev/null', fs.constants.O_RDONLY, 0);
  else c.addDup2(actions, stdin, 0);
  c.addDup2(actions, stdout, 1);
  c.addDup2(actions, stderr, 2);
  if (cwd) c.addChdir(actions, cwd);
  return actions;
}

/**
 * Default dispositions (crid ignores SIGPIPE, which a child would inherit) and no blocked signals;
 * made once for each session choice and reused, as POSIX allows.
 */
function attributes(newSession: boolean): Buffer {
  const attr = Buffer.alloc(OPAQUE_BYTES);
  c.attrInit(attr);
  const all = Buffer.alloc(OPAQUE_BYTES);
  c.sigFillSet(all);
  c.attrSetSigDefault(attr, all);
  const none = Buffer.alloc(OPAQUE_BYTES);
  c.sigEmptySet(none);
  c.attrSetSigMask(attr, none);
  c.attrSetFlags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (newSession ? POSIX_SPAWN_SETSID : 0));
  return attr;
}

const ATTRIBUTES = { sameSession: attributes(false), newSession: attributes(true) };

/** posix_spawnp on a thread-pool thread; its arguments stay referenced until it returns. */
function spawnOffThread(
  pid: number[],
  file: string,
  actions: Buffer,
  attr: Buffer,
  argv: Array<string | null>,
  envp: Array<string | null>,
): Promise<number> {
  return new Promise((resolve, reject) =>
    c.spawnp.async(pid, file, actions, attr, argv, envp, (err: unknown, result: number) =>
      err ? reject(err) : resolve(result),
    ),
  );
}

/**
 * Starts `file` (looked up in PATH when it has no slash) with `args`; its stdout and stderr are
 * pipes. Throws, as Node's spawn reports, when it cannot be started (ENOENT, EACCES, …). The pipes'
 * errors are dropped: a read error ends a stream as EOF does, and a program that exits without
 * reading its stdin breaks that pipe (EPIPE); the exit status tells how the program ended.
 */
export async function spawnProcess(file: string, args: string[], opts: SpawnOptions): Promise<Spawned> {
  const env = envStrings(file, args, opts.env, opts.cwd);
  const fds: number[] = [];
  const open = () => {
    const ends = pipe();
    fds.push(...ends);
    return ends;
  };
  const pid = [0];
  let err: number;
  let stdio: { stdin: number | undefined; stdout: number; stderr: number };
  try {
    const [outRead, outWrite] = open();
    const [errRead, errWrite] = open();
    const [inRead, inWrite] = opts.stdin === 'pipe' ? open() : [undefined, undefined];
    stdio = { stdin: inWrite, stdout: outRead, stderr: errRead };
    const actions = fileActions(inRead, outWrite, errWrite, opts.cwd);
    const attr = opts.newSession ? ATTRIBUTES.newSession : ATTRIBUTES.sameSession;
    try {
      err = await spawnOffThread(pid, file, actions, attr, [file, ...args, null], [...env, null]);
    } finally {
      c.actionsDestroy(actions);
    }
  } catch (failure) {
    for (const fd of fds) fs.closeSync(fd);
    throw failure;
  }
  const parentEnds = new Set([stdio.stdin, stdio.stdout, stdio.stderr]);
  for (const fd of fds) if (err !== 0 || !parentEnds.has(fd)) fs.closeSync(fd);
  if (err !== 0) throw spawnError(file, err);
  const child = pid[0]!;
  const stdin =
    stdio.stdin === undefined ? undefined : new net.Socket({ fd: stdio.stdin, readable: false, writable: true });
  const stdout = new net.Socket({ fd: stdio.stdout, readable: true, writable: false });
  const stderr = new net.Socket({ fd: stdio.stderr, readable: true, writable: false });
  for (const stream of [stdin, stdout, stderr]) stream?.on('error', () => {});
  const exit = watch(child);
  const outputClosed = [stdout, stderr].map((s) => new Promise((resolve) => s.once('close', resolve)));
  return {
    pid: child,
    stdin,
    stdout,
    stderr,
    exit,
    closed: Promise.all([exit, ...outputClosed]).then(([done]) => done),
    kill: (signal) => {
      if (running.has(child)) process.kill(child, signal);
    },
  };
}

export interface DaemonOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** A descriptor the daemon gets as its fd 3 (a listening socket). */
  fd3: number;
}

/**
 * Starts a daemon in a session of its own, with /dev/null for its stdio and `fd3` as its fd 3, as Go's
 * exec does with one ExtraFiles entry. crid reaps it once it has exited, without waiting for that.
 */
export async function spawnDaemon(
  file: string,
  args: string[],
  opts: DaemonOptions,
): Promise<{ pid: number; exit: Promise<Exit> }> {
  const env = envStrings(file, args, opts.env, opts.cwd);
  const actions = Buffer.alloc(OPAQUE_BYTES);
  c.actionsInit(actions);
  c.addOpen(actions, 0, '/dev/null', fs.constants.O_RDONLY, 0);
  c.addOpen(actions, 1, '/dev/null', fs.constants.O_WRONLY, 0);
  c.addDup2(actions, 1, 2);
  c.addDup2(actions, opts.fd3, 3);
  c.addChdir(actions, opts.cwd);
  const pid = [0];
  let err: number;
  try {
    err = await spawnOffThread(pid, file, actions, ATTRIBUTES.newSession, [file, ...args, null], [...env, null]);
  } finally {
    c.actionsDestroy(actions);
  }
  if (err !== 0) throw spawnError(file, err);
  return { pid: pid[0]!, exit: watch(pid[0]!, true) };
}
