// Which shim executable runs a handler: runtime_path when set, else the name derived from
// runtime_type (`io.containerd.runc.v2` → containerd-shim-runc-v2) looked up like containerd does.
import fs from 'node:fs';
import path from 'node:path';
import { failedPrecondition, invalidArgument } from '../errors.ts';
import type { RuntimeHandler } from '../config/model.ts';

export const LEGACY_V1_RUNTIME_TYPE = 'io.containerd.runtime.v1.linux';
export const LEGACY_V1_SHIM = 'containerd-shim';

export function shimBinaryName(runtimeType: string): string {
  const parts = runtimeType.split('.');
  if (parts.length < 2) {
    throw invalidArgument(
      `invalid runtime name ${runtimeType}, correct runtime name should be either format like \`io.containerd.runc.v1\` or a full path to the binary`,
    );
  }
  return `containerd-shim-${parts[parts.length - 2]}-${parts[parts.length - 1]}`;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Looks in dirname(runtime_type) relative to cwd, then $PATH, then beside crid's own executable. */
export function resolveShimBinary(handler: RuntimeHandler, env: NodeJS.ProcessEnv = process.env): string {
  if (handler.runtime_path) {
    if (!isExecutable(handler.runtime_path)) {
      throw failedPrecondition(`invalid custom binary path ${handler.runtime_path} for handler ${handler.name}`);
    }
    return handler.runtime_path;
  }
  const runtime = handler.runtime_type;
  const name = runtime === LEGACY_V1_RUNTIME_TYPE ? LEGACY_V1_SHIM : shimBinaryName(runtime);
  const dirs = [
    path.resolve(path.dirname(runtime)),
    ...(env.PATH ?? '').split(':').filter(Boolean),
    path.dirname(process.execPath),
  ];
  const found = dirs.map((dir) => path.join(dir, name)).find(isExecutable);
  if (!found) {
    throw failedPrecondition(`runtime "${runtime}" binary not installed "${name}": file does not exist`);
  }
  return found;
}
