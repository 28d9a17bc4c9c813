// The runtime options Any a shim gets on `start`'s stdin and in CreateTaskRequest.options, built from
// a handler's `options` table the way containerd's CRI plugin does.
import { packAny, type AnyMessage } from '../ttrpc/codec.ts';
import type { RuntimeHandler } from '../config/model.ts';

/** 1.6 shims resolve bare proto names only; a type.googleapis.com/ prefix makes them fail. */
export const RUNC_OPTIONS_TYPE_URL = 'containerd.runc.v1.Options';
export const RUNTIME_OPTIONS_TYPE_URL = 'runtimeoptions.v1.Options';

const RUNC_RUNTIME_TYPES = new Set(['io.containerd.runc.v1', 'io.containerd.runc.v2']);

/** TOML key (as containerd's Go struct field) → proto field of containerd.runc.v1.Options. */
const RUNC_FIELDS: Record<string, string> = {
  NoPivotRoot: 'no_pivot_root',
  NoNewKeyring: 'no_new_keyring',
  ShimCgroup: 'shim_cgroup',
  IoUid: 'io_uid',
  IoGid: 'io_gid',
  BinaryName: 'binary_name',
  Root: 'root',
  CriuPath: 'criu_path',
  SystemdCgroup: 'systemd_cgroup',
  CriuImagePath: 'criu_image_path',
  CriuWorkPath: 'criu_work_path',
};

const RUNTIME_OPTIONS_FIELDS: Record<string, string> = { TypeUrl: 'type_url', ConfigPath: 'config_path' };

export function isRuncRuntimeType(runtimeType: string): boolean {
  return RUNC_RUNTIME_TYPES.has(runtimeType);
}

/** Go's TOML decoding matches struct fields case-insensitively; so does this. */
function mapFields(options: Record<string, unknown>, fields: Record<string, string>): Record<string, unknown> {
  const byLowerKey = new Map(Object.entries(fields).map(([key, field]) => [key.toLowerCase(), field]));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    const field = byLowerKey.get(key.toLowerCase());
    if (field) out[field] = value;
  }
  return out;
}

/** undefined when the handler has no options table (the shim then uses its defaults). */
export function runtimeOptionsAny(handler: RuntimeHandler): AnyMessage | undefined {
  if (Object.keys(handler.options).length === 0) return undefined;
  if (isRuncRuntimeType(handler.runtime_type)) {
    return packAny(RUNC_OPTIONS_TYPE_URL, 'containerd.runc.v1.Options', mapFields(handler.options, RUNC_FIELDS));
  }
  return packAny(RUNTIME_OPTIONS_TYPE_URL, 'runtimeoptions.v1.Options', mapFields(handler.options, RUNTIME_OPTIONS_FIELDS));
}
