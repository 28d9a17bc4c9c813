// Seccomp for CRI security profiles: `runtime/default` is crid's built-in allow-list profile (the
// same shape as containerd's and Docker's defaults: deny with EPERM, allow the ordinary syscalls,
// allow privileged syscall groups only with the capability that guards them); `unconfined` is no
// filter; `localhost/<path>` is an OCI LinuxSeccomp JSON file.
import { readFileSync } from 'node:fs';
import { invalidArgument } from '../errors.ts';
import type { SecurityProfile__Output } from '../generated/runtime/v1/SecurityProfile.ts';
import { enumValue, quote } from './cri-values.ts';
import type { Seccomp, SeccompSyscall } from './spec-types.ts';

export type ProfileKind = 'RuntimeDefault' | 'Unconfined' | 'Localhost';
const PROFILE_KINDS: readonly ProfileKind[] = ['RuntimeDefault', 'Unconfined', 'Localhost'];

export interface Profile {
  kind: ProfileKind;
  localhostRef: string;
}

/**
 * The requested profile: the `seccomp`/`apparmor` message, else the deprecated path string
 * (`runtime/default`, `docker/default`, `unconfined`, `localhost/<ref>`); undefined when neither is set.
 */
export function requestedProfile(
  message: SecurityProfile__Output | null | undefined,
  deprecatedPath: string,
  field: string,
): Profile | undefined {
  if (message) {
    const kind = enumValue(message.profile_type, PROFILE_KINDS, `${field}.profile_type`);
    const localhostRef = message.localhost_ref ?? '';
    if (kind !== 'Localhost' && localhostRef !== '')
      throw invalidArgument(`${field}.localhost_ref must only be set for a Localhost profile`);
    if (kind === 'Localhost' && localhostRef === '')
      throw invalidArgument(`${field}.localhost_ref is required for a Localhost profile`);
    return { kind, localhostRef: localhostRef.replace(/^localhost\//, '') };
  }
  switch (deprecatedPath) {
    case '':
      return undefined;
    case 'runtime/default':
    case 'docker/default':
      return { kind: 'RuntimeDefault', localhostRef: '' };
    case 'unconfined':
      return { kind: 'Unconfined', localhostRef: '' };
    default:
      if (!deprecatedPath.startsWith('localhost/'))
        throw invalidArgument(`${field}_profile_path: invalid profile ${quote(deprecatedPath)}`);
      return { kind: 'Localhost', localhostRef: deprecatedPath.slice('localhost/'.length) };
  }
}

export type ReadProfileFile = (path: string) => string;

const readUtf8: ReadProfileFile = (path) => readFileSync(path, 'utf8');

/**
 * The seccomp section for a process: none when privileged, unrequested or unconfined (containerd
 * applies no filter unless one is asked for), the built-in profile for RuntimeDefault, the file's.
 */
export function seccompFor(
  profile: Profile | undefined,
  options: {
    privileged: boolean;
    capabilities: readonly string[];
    arch: string;
    field: string;
    readFile?: ReadProfileFile;
  },
): Seccomp | undefined {
  if (options.privileged || !profile) return undefined;
  switch (profile.kind) {
    case 'Unconfined':
      return undefined;
    case 'RuntimeDefault':
      return defaultSeccompProfile(options.arch, options.capabilities);
    case 'Localhost':
      return loadLocalhostProfile(profile.localhostRef, options.field, options.readFile ?? readUtf8);
  }
}

function loadLocalhostProfile(path: string, field: string, readFile: ReadProfileFile): Seccomp {
  if (!path.startsWith('/'))
    throw invalidArgument(`${field}: localhost profile ${quote(path)} must be an absolute path`);
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    throw invalidArgument(`${field}: cannot read seccomp profile ${path}: ${(err as Error).message}`, err);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`${field}: seccomp profile ${path} is not JSON: ${(err as Error).message}`, err);
  }
  const profile = parsed as Partial<Seccomp> | null;
  if (typeof profile !== 'object' || profile === null || typeof profile.defaultAction !== 'string') {
    throw invalidArgument(`${field}: seccomp profile ${path} is not an OCI seccomp profile (no "defaultAction")`);
  }
  if (profile.syscalls !== undefined && !Array.isArray(profile.syscalls)) {
    throw invalidArgument(`${field}: seccomp profile ${path}: "syscalls" must be a list`);
  }
  return profile as Seccomp;
}

const ARCHITECTURES: Record<string, string[]> = {
  x64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  ia32: ['SCMP_ARCH_X86'],
  arm64: ['SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64'],
  arm: ['SCMP_ARCH_ARM'],
  s390x: ['SCMP_ARCH_S390', 'SCMP_ARCH_S390X'],
  ppc64: ['SCMP_ARCH_PPC64LE'],
  riscv64: ['SCMP_ARCH_RISCV64'],
};

// Syscalls every container may make. Names the kernel or libseccomp does not know are skipped by
// runc and crun, so newer calls can be listed. ptrace needs kernel ≥ 4.8 (before, it could bypass
// seccomp); every kernel crid supports is newer.
const ALLOWED = `accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod chown chown32
clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep
clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2 dup3 epoll_create epoll_create1
epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit
exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchmodat2
fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat
fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex futex_requeue futex_time64 futex_wait
futex_waitv futex_wake futimesat get_robust_list get_thread_area getcpu getcwd getdents getdents64 getegid
getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp getpid
getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32 getrlimit getrusage getsid getsockname
getsockopt gettid gettimeofday getuid getuid32 getxattr inotify_add_watch inotify_init inotify_init1
inotify_rm_watch io_cancel io_destroy io_getevents io_pgetevents io_pgetevents_time64 io_setup io_submit ioctl
ioprio_get ioprio_set ipc kill landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown lchown32
lgetxattr link linkat listen listxattr llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 madvise
map_shadow_stack membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall
mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend
mq_timedsend_time64 mq_unlink mremap mseal msgctl msgget msgrcv msgsnd msync munlock munlockall munmap
name_to_handle_at nanosleep newfstatat _newselect open openat openat2 pause pidfd_open pidfd_send_signal pipe
pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64
process_mrelease pselect6 pselect6_time64 ptrace pwrite64 pwritev pwritev2 read readahead readlink readlinkat
readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages removexattr rename renameat renameat2
restart_syscall rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend
rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_get_priority_max sched_get_priority_min
sched_getaffinity sched_getattr sched_getparam sched_getscheduler sched_rr_get_interval
sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam sched_setscheduler sched_yield
seccomp select semctl semget semop semtimedop semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto
set_robust_list set_thread_area set_tid_address setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32
setgroups setgroups32 setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid
setresuid32 setreuid setreuid32 setrlimit setsid setsockopt setuid setuid32 setxattr shmat shmctl shmdt shmget
shutdown sigaltstack signalfd signalfd4 sigprocmask sigreturn socket socketcall socketpair splice stat stat64
statfs statfs64 statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create
timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create
timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate truncate64 ugetrlimit
umask uname unlink unlinkat utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write
writev`;

const BY_ARCH: Record<string, string> = {
  x64: 'arch_prctl modify_ldt',
  ia32: 'modify_ldt',
  arm64: 'arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls',
  arm: 'arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls',
  s390x: 's390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr',
  riscv64: 'riscv_flush_icache riscv_hwprobe',
};

/** Syscall groups allowed only when the process holds the capability that guards them. */
const BY_CAPABILITY: Record<string, string> = {
  CAP_DAC_READ_SEARCH: 'open_by_handle_at',
  CAP_SYS_ADMIN: `bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount mount_setattr
move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog umount umount2
unshare`,
  CAP_SYS_BOOT: 'reboot',
  CAP_SYS_CHROOT: 'chroot',
  CAP_SYS_MODULE: 'delete_module init_module finit_module',
  CAP_SYS_PACCT: 'acct',
  CAP_SYS_PTRACE: 'kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev',
  CAP_SYS_RAWIO: 'iopl ioperm',
  CAP_SYS_TIME: 'settimeofday stime clock_settime clock_settime64',
  CAP_SYS_TTY_CONFIG: 'vhangup',
  CAP_SYS_NICE: 'get_mempolicy mbind set_mempolicy set_mempolicy_home_node',
  CAP_SYSLOG: 'syslog',
  CAP_BPF: 'bpf',
  CAP_PERFMON: 'perf_event_open',
};

// personality(2) domains a container may switch to: PER_LINUX, PER_LINUX32, UNAME26 variants, query.
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

// CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
const CLONE_NAMESPACE_FLAGS = 0x7e020000;
const ENOSYS = 38;

const names = (list: string): string[] => list.split(/\s+/).filter((n) => n !== '');

/** crid's `runtime/default` profile for a Node `process.arch` and the process' bounding capabilities. */
export function defaultSeccompProfile(arch: string, capabilities: readonly string[]): Seccomp {
  const syscalls: SeccompSyscall[] = [{ names: names(ALLOWED), action: 'SCMP_ACT_ALLOW' }];
  for (const value of PERSONALITIES) {
    syscalls.push({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }] });
  }
  if (BY_ARCH[arch]) syscalls.push({ names: names(BY_ARCH[arch]), action: 'SCMP_ACT_ALLOW' });
  for (const [cap, list] of Object.entries(BY_CAPABILITY)) {
    if (capabilities.includes(cap)) syscalls.push({ names: names(list), action: 'SCMP_ACT_ALLOW' });
  }
  if (!capabilities.includes('CAP_SYS_ADMIN')) {
    // s390 passes clone's flags as the second argument.
    const index = arch === 's390x' ? 1 : 0;
    syscalls.push({
      names: ['clone'],
      action: 'SCMP_ACT_ALLOW',
      args: [{ index, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
    });
    // ENOSYS, not EPERM, so that libcs fall back to clone(2), which is filtered by flags above.
    syscalls.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
  }
  return { defaultAction: 'SCMP_ACT_ERRNO', architectures: ARCHITECTURES[arch] ?? [], syscalls };
}
