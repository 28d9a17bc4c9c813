// The Linux calls Node has no binding for (mount, umount2, mkfifo, unshare, setns, socketpair),
// made through libc by koffi. Spawning mount(8) or mkfifo(1) instead costs a fork of crid's whole
// memory map per call, which blocks the event loop and puts several processes on every pod's path.
import fs from 'node:fs';
import { constants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import koffi from 'koffi';

export const libc = koffi.load('libc.so.6');
const c = {
  mount: libc.func(
    'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)',
  ),
  umount2: libc.func('int umount2(const char *target, int flags)'),
  mkfifo: libc.func('int mkfifo(const char *path, uint32_t mode)'),
  unshare: libc.func('int unshare(int flags)'),
  setns: libc.func('int setns(int fd, int nstype)'),
  socket: libc.func('int socket(int domain, int type, int protocol)'),
  ioctl: libc.func('int ioctl(int fd, unsigned long request, ...)'),
  socketpair: libc.func('int socketpair(int domain, int type, int protocol, _Out_ int *fds)'),
  bind: libc.func('int bind(int fd, const uint8_t *addr, uint32_t len)'),
  listen: libc.func('int listen(int fd, int backlog)'),
};

export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
const MS_BIND = 0x1000;
export const MNT_DETACH = 0x2;
const CLONE_NEWNET = 0x40000000;
const AF_UNIX = 1;
const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
/** sockaddr_un: the family, then a NUL-terminated path of at most 107 bytes. */
const SOCKADDR_UN_BYTES = 110;
/** What Go's net.Listen asks for (the kernel caps it at net.core.somaxconn). */
const LISTEN_BACKLOG = 4096;
const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const IFF_UP = 0x1;

/** An error shaped as Node's own fs errors: `code` is the errno name (EBUSY, ENOENT, …). */
export function errnoError(errno: number, syscall: string, path: string): NodeJS.ErrnoException {
  const code = getSystemErrorName(-errno);
  const err: NodeJS.ErrnoException = new Error(`${code}: ${syscall} ${path}`);
  Object.assign(err, { errno: -errno, code, syscall, path });
  return err;
}

/** A libc call's result, or its errno as an error when it failed (returned -1). */
export function check(result: number, syscall: string, path: string): number {
  if (result < 0) throw errnoError(koffi.errno(), syscall, path);
  return result;
}

export function mount(source: string, target: string, fstype: string | null, flags: number, data: string): void {
  check(c.mount(source, target, fstype, flags, data || null), 'mount', target);
}

export function umount(target: string, flags = 0): void {
  check(c.umount2(target, flags), 'umount2', target);
}

export function mkfifo(path: string, mode: number): void {
  check(c.mkfifo(path, mode), 'mkfifo', path);
}

/** The two file descriptors of a connected pair of unix stream sockets (close-on-exec). */
export function unixSocketPair(): [number, number] {
  const fds = [0, 0];
  check(c.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 'socketpair', '');
  return [fds[0]!, fds[1]!];
}

/**
 * A unix stream socket listening at `socketPath` (which must not exist), close-on-exec: for a child to
 * inherit, as a shim v2 inherits the socket it serves on.
 */
export function listenUnixSocket(socketPath: string): number {
  const address = Buffer.alloc(SOCKADDR_UN_BYTES);
  address.writeUInt16LE(AF_UNIX, 0);
  if (Buffer.byteLength(socketPath) > SOCKADDR_UN_BYTES - 3 || socketPath.includes('\0'))
    throw errnoError(constants.errno.ENAMETOOLONG, 'bind', socketPath);
  address.write(socketPath, 2);
  const fd = check(c.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), 'socket', socketPath);
  try {
    check(c.bind(fd, address, address.length), 'bind', socketPath);
    check(c.listen(fd, LISTEN_BACKLOG), 'listen', socketPath);
    return fd;
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/**
 * Makes a new network namespace with `lo` up and bind-mounts it on `target` (an existing file), as
 * `ip netns add` does (recovery removes what an abort in inOtherNetns left).
 */
export function createNetnsAt(target: string): void {
  inOtherNetns(target, () => {
    check(c.unshare(CLONE_NEWNET), 'unshare', target);
    bringLoopbackUp(target);
    mount('/proc/thread-self/ns/net', target, null, MS_BIND, '');
  });
}

/**
 * A TCP socket (IPv4, not connected) made in the network namespace mounted at `netnsPath`. A socket
 * belongs to the namespace it was made in: crid connects it from its own, with no process entering
 * the pod's namespace for it.
 */
export function tcpSocketInNetns(netnsPath: string): number {
  const target = fs.openSync(netnsPath, 'r');
  try {
    return inOtherNetns(netnsPath, () => {
      check(c.setns(target, CLONE_NEWNET), 'setns', netnsPath);
      return check(c.socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), 'socket', netnsPath);
    });
  } finally {
    fs.closeSync(target);
  }
}

/**
 * Runs `work`, which moves the main thread into another network namespace, and brings the thread back
 * to its own before any other JavaScript runs (namespaces are per thread). If it cannot return, crid
 * must not go on in a pod's network: the process aborts.
 */
function inOtherNetns<T>(what: string, work: () => T): T {
  const own = fs.openSync('/proc/thread-self/ns/net', 'r');
  try {
    return work();
  } finally {
    if (c.setns(own, CLONE_NEWNET) < 0) {
      process.stderr.write(
        `crid: cannot return to its own network namespace: ${errnoError(koffi.errno(), 'setns', what).message}\n`,
      );
      process.abort();
    }
    fs.closeSync(own);
  }
}

/** `ip link set lo up` in the calling thread's network namespace. */
function bringLoopbackUp(target: string): void {
  const fd = check(c.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), 'socket', target);
  try {
    const ifreq = Buffer.alloc(40);
    ifreq.write('lo', 0, 'latin1');
    check(c.ioctl(fd, SIOCGIFFLAGS, 'uint8_t *', ifreq), 'ioctl(SIOCGIFFLAGS)', target);
    ifreq.writeInt16LE(ifreq.readInt16LE(16) | IFF_UP, 16);
    check(c.ioctl(fd, SIOCSIFFLAGS, 'uint8_t *', ifreq), 'ioctl(SIOCSIFFLAGS)', target);
  } finally {
    fs.closeSync(fd);
  }
}
