// runtime_type → shim binary, as containerd finds it: the shim's kind, containerd's binary name, the
// PATH lookup, and the OCI runtime a runc shim execs.
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import type { RuntimeHandler } from '../config/model.ts';
import { failedPrecondition, invalidArgument } from '../errors.ts';
import { RUNTIME_V1_LINUX } from '../config/options.ts';

/** The legacy v1 shim's binary (containerd's `[plugins.linux] shim` default). */
export const V1_SHIM_BINARY = 'containerd-shim';

export type ShimKind = 'v1' | 'v2';

export function shimKind(handler: RuntimeHandler): ShimKind {
  return handler.runtime_type === RUNTIME_V1_LINUX ? 'v1' : 'v2';
}

/**
 * The legacy runtime and io.containerd.runc.v1/v2 run containers on the host with an OCI runtime of
 * runc's kind: a task joins its pod's netns by path, where a VM shim copies the netns' interfaces
 * into its VM when the task is created.
 */
export function isRuncKind(handler: RuntimeHandler): boolean {
  const binary = shimBinaryName(handler.runtime_type);
  return path.basename(binary) === V1_SHIM_BINARY || isRuncShimBinary(binary);
}

/** containerd's runc shim of the v2 API (for runc and crun alike). */
export const RUNC_V2_SHIM = 'containerd-shim-runc-v2';

/** containerd-shim-runc-v1/v2, by the binary's name: the v2 shims that drive runc or crun. */
export function isRuncShimBinary(binary: string): boolean {
  return /^containerd-shim-runc-v[12]$/.test(path.basename(binary));
}

/**
 * containerd's name for a runtime_type: `containerd-shim-<a>-<b>` from its last two dot parts
 * (`io.containerd.runc.v2` → `containerd-shim-runc-v2`); the legacy v1 runtime uses `containerd-shim`;
 * an absolute path is the binary itself; "" when the type has fewer than two parts.
 */
export function shimBinaryName(runtimeType: string): string {
  if (runtimeType === RUNTIME_V1_LINUX) return V1_SHIM_BINARY;
  if (path.isAbsolute(runtimeType)) return runtimeType;
  const parts = runtimeType.split('.');
  if (parts.length < 2) return '';
  return `containerd-shim-${parts.at(-2)}-${parts.at(-1)}`;
}

/**
 * The absolute shim binary for a handler: runtime_path when set, else shimBinaryName looked up in
 * `searchPath` (a PATH string). Throws FailedPrecondition with containerd's wording when missing.
 */
export function findShimBinary(handler: RuntimeHandler, searchPath: string = process.env.PATH ?? ''): string {
  const custom =
    handler.runtime_path !== ''
      ? handler.runtime_path
      : path.isAbsolute(handler.runtime_type)
        ? handler.runtime_type
        : '';
  if (custom !== '') {
    if (!isExecutableFile(custom)) {
      throw failedPrecondition(`invalid custom binary path: stat ${custom}: no such file or directory`);
    }
    return custom;
  }
  const name = shimBinaryName(handler.runtime_type);
  if (name === '') {
    throw invalidArgument(
      `invalid runtime name ${handler.runtime_type}, correct runtime name should be either format like \`io.containerd.runc.v1\` or a full path to the binary`,
    );
  }
  for (const dir of searchPath.split(path.delimiter)) {
    if (dir === '' || !path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  throw failedPrecondition(`runtime "${handler.runtime_type}" binary not installed "${name}": file does not exist`);
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The OCI runtime a runc-type shim execs, and its state root; undefined for other shims (kata, …). */
export interface OciRuntime {
  /** BinaryName / Runtime / runtime_engine as configured, default `runc`. */
  binary: string;
  /** Root / RuntimeRoot / runtime_root, default the shims' own `/run/containerd/runc`. */
  root: string;
}

const RUNC_SHIM_TYPES = ['io.containerd.runc.v1', 'io.containerd.runc.v2'];
const SHIM_DEFAULT_RUNC_ROOT = '/run/containerd/runc';

export function ociRuntimeOf(handler: RuntimeHandler): OciRuntime | undefined {
  const text = (value: unknown): string => (typeof value === 'string' ? value : '');
  if (RUNC_SHIM_TYPES.includes(handler.runtime_type)) {
    return {
      binary: text(handler.options.BinaryName) || 'runc',
      root: text(handler.options.Root) || SHIM_DEFAULT_RUNC_ROOT,
    };
  }
  if (handler.runtime_type !== RUNTIME_V1_LINUX) return undefined;
  return {
    binary: text(handler.options.Runtime) || handler.runtime_engine || 'runc',
    root: text(handler.options.RuntimeRoot) || handler.runtime_root || SHIM_DEFAULT_RUNC_ROOT,
  };
}

/** An executable by absolute path or looked up in `searchPath`; undefined when not found. */
export function lookPath(name: string, searchPath: string): string | undefined {
  const candidates = path.isAbsolute(name)
    ? [name]
    : searchPath
        .split(path.delimiter)
        .filter((d) => path.isAbsolute(d))
        .map((d) => path.join(d, name));
  return candidates.find(isExecutableFile);
}
