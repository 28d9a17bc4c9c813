// A handler's `options` table: which keys its runtime_type knows, and the protobuf message
// (type URL + fields, proto field names) containerd's CRI would hand the shim for it.
import type { RuntimeHandler } from './model.ts';
import type { ValueKind } from './schema.ts';

export const RUNTIME_V1_LINUX = 'io.containerd.runtime.v1.linux';
const RUNC_TYPES = ['io.containerd.runc.v1', 'io.containerd.runc.v2'];

export type OptionsSchemaName = 'runc' | 'runc-v1-linux' | 'runtimeoptions';

interface OptionsSchema {
  typeUrl: string;
  /** TOML key (Go field name) → [kind, proto field name]. */
  fields: Record<string, [ValueKind, string]>;
}

const SCHEMAS: Record<OptionsSchemaName, OptionsSchema> = {
  runc: {
    typeUrl: 'containerd.runc.v1.Options',
    fields: {
      NoPivotRoot: ['bool', 'no_pivot_root'],
      NoNewKeyring: ['bool', 'no_new_keyring'],
      ShimCgroup: ['string', 'shim_cgroup'],
      IoUid: ['int', 'io_uid'],
      IoGid: ['int', 'io_gid'],
      BinaryName: ['string', 'binary_name'],
      Root: ['string', 'root'],
      CriuPath: ['string', 'criu_path'],
      SystemdCgroup: ['bool', 'systemd_cgroup'],
      CriuImagePath: ['string', 'criu_image_path'],
      CriuWorkPath: ['string', 'criu_work_path'],
    },
  },
  'runc-v1-linux': {
    typeUrl: 'containerd.linux.runc.RuncOptions',
    fields: {
      Runtime: ['string', 'runtime'],
      RuntimeRoot: ['string', 'runtime_root'],
      CriuPath: ['string', 'criu_path'],
      SystemdCgroup: ['bool', 'systemd_cgroup'],
    },
  },
  runtimeoptions: {
    typeUrl: 'runtimeoptions.v1.Options',
    fields: {
      TypeUrl: ['string', 'type_url'],
      ConfigPath: ['string', 'config_path'],
      ConfigBody: ['string', 'config_body'],
    },
  },
};

export function optionsSchemaName(runtimeType: string): OptionsSchemaName {
  if (RUNC_TYPES.includes(runtimeType)) return 'runc';
  return runtimeType === RUNTIME_V1_LINUX ? 'runc-v1-linux' : 'runtimeoptions';
}

/** Kind of an `options` key for this runtime_type; undefined when the message has no such field. */
export function optionKind(runtimeType: string, key: string): ValueKind | undefined {
  return SCHEMAS[optionsSchemaName(runtimeType)].fields[key]?.[0];
}

export function knownOptionKeys(runtimeType: string): string[] {
  return Object.keys(SCHEMAS[optionsSchemaName(runtimeType)].fields);
}

export interface ShimOptions {
  typeUrl: string;
  /** Proto field name → value; zero values left out, as protobuf does. Integers as numbers (uint32). */
  fields: Record<string, string | number | boolean>;
}

/**
 * The options message for a handler, or undefined when containerd sends none (no `options`
 * table on a v2 shim). The legacy v1 shim always gets RuncOptions, built from runtime_engine and
 * runtime_root when the table is absent.
 */
export function shimOptions(handler: RuntimeHandler): ShimOptions | undefined {
  const name = optionsSchemaName(handler.runtime_type);
  const source =
    name === 'runc-v1-linux' && Object.keys(handler.options).length === 0
      ? { Runtime: handler.runtime_engine, RuntimeRoot: handler.runtime_root }
      : handler.options;
  if (name !== 'runc-v1-linux' && Object.keys(source).length === 0) return undefined;
  const schema = SCHEMAS[name];
  const fields: ShimOptions['fields'] = {};
  for (const [key, value] of Object.entries(source)) {
    const field = schema.fields[key];
    if (field === undefined || isZero(value)) continue;
    fields[field[1]] = typeof value === 'bigint' ? Number(value) : (value as string | number | boolean);
  }
  return { typeUrl: schema.typeUrl, fields };
}

function isZero(value: unknown): boolean {
  return value === '' || value === false || value === 0 || value === 0n || value === undefined;
}
