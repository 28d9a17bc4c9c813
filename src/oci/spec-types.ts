// The parts of the OCI runtime spec (config.json, runtime-spec v1.0.2 as runc 1.1 / crun 1.8 read it)
// that crid writes. Field names are the JSON names. int64/uint64 quantities that can exceed 2^53
// (memory, quota, shares, period, hugepage limits) are bigint: serialize with `serializeSpec`.
import { exactJson } from '../util/exact-json.ts';

export const OCI_VERSION = '1.0.2-dev';

export interface Spec {
  ociVersion: string;
  process: Process;
  root: Root;
  hostname?: string;
  mounts: Mount[];
  annotations: Record<string, string>;
  linux: Linux;
  hooks?: Hooks;
}

export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export type Hooks = Partial<
  Record<'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop', Hook[]>
>;

export interface Process {
  terminal?: boolean;
  user: User;
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: Capabilities;
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  rlimits?: Rlimit[];
}

export interface User {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
}

export interface Capabilities {
  bounding: string[];
  effective: string[];
  permitted: string[];
  inheritable?: string[];
  ambient?: string[];
}

export interface Rlimit {
  type: string;
  hard: number;
  soft: number;
}

export interface Root {
  path: string;
  readonly?: boolean;
}

export interface Mount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

export type NamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup';

export interface Namespace {
  type: NamespaceType;
  path?: string;
}

export interface Linux {
  namespaces: Namespace[];
  resources: Resources;
  cgroupsPath?: string;
  sysctl?: Record<string, string>;
  devices?: Device[];
  seccomp?: Seccomp;
  rootfsPropagation?: string;
  maskedPaths: string[];
  readonlyPaths: string[];
}

export interface Resources {
  devices: DeviceCgroup[];
  memory?: Memory;
  cpu?: Cpu;
  hugepageLimits?: HugepageLimit[];
  unified?: Record<string, string>;
}

export interface DeviceCgroup {
  allow: boolean;
  type?: 'a' | 'b' | 'c';
  major?: number;
  minor?: number;
  access?: string;
}

export interface Memory {
  limit?: bigint;
  swap?: bigint;
}

export interface Cpu {
  shares?: bigint;
  quota?: bigint;
  period?: bigint;
  cpus?: string;
  mems?: string;
}

export interface HugepageLimit {
  pageSize: string;
  limit: bigint;
}

export interface Device {
  path: string;
  type: 'b' | 'c' | 'p';
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export type SeccompAction =
  | 'SCMP_ACT_KILL'
  | 'SCMP_ACT_KILL_PROCESS'
  | 'SCMP_ACT_TRAP'
  | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_TRACE'
  | 'SCMP_ACT_ALLOW'
  | 'SCMP_ACT_LOG';

export type SeccompOperator =
  | 'SCMP_CMP_NE'
  | 'SCMP_CMP_LT'
  | 'SCMP_CMP_LE'
  | 'SCMP_CMP_EQ'
  | 'SCMP_CMP_GE'
  | 'SCMP_CMP_GT'
  | 'SCMP_CMP_MASKED_EQ';

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: SeccompOperator;
}

export interface SeccompSyscall {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: SeccompArg[];
}

export interface Seccomp {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  syscalls?: SeccompSyscall[];
}

/** The image config fields a spec is built from (OCI image-spec `config`, JSON names). */
export interface ImageConfig {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Env?: string[] | null;
  User?: string;
  WorkingDir?: string;
}

/** config.json text; bigint fields are written as exact JSON integers. */
export function serializeSpec(value: Spec | Process): string {
  return exactJson(value, 2);
}
