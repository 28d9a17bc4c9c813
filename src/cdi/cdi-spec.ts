// Container Device Interface spec files (CDI 0.3–0.8, JSON or YAML): a vendor's devices and the
// edits each makes to a container. Parsing checks the shape; nothing here touches the host.

export interface CdiDeviceNode {
  /** Path in the container. */
  path: string;
  /** The host node to take type and numbers from; `path` when unset. */
  hostPath?: string;
  type?: 'b' | 'c' | 'p';
  major?: number;
  minor?: number;
  fileMode?: number;
  /** Device cgroup access, "rwm" when unset. */
  permissions?: string;
  uid?: number;
  gid?: number;
}

export interface CdiMount {
  hostPath: string;
  containerPath: string;
  type?: string;
  options?: string[];
}

export const HOOK_NAMES = [
  'prestart',
  'createRuntime',
  'createContainer',
  'startContainer',
  'poststart',
  'poststop',
] as const;
export type HookName = (typeof HOOK_NAMES)[number];

export interface CdiHook {
  hookName: HookName;
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export interface ContainerEdits {
  env?: string[];
  deviceNodes?: CdiDeviceNode[];
  mounts?: CdiMount[];
  hooks?: CdiHook[];
  additionalGids?: number[];
}

export interface CdiDevice {
  name: string;
  containerEdits: ContainerEdits;
}

export interface CdiSpec {
  cdiVersion: string;
  /** "vendor.com/class": devices are named "vendor.com/class=name". */
  kind: string;
  devices: CdiDevice[];
  /** Edits every device of this spec brings along. */
  containerEdits?: ContainerEdits;
}

const KIND = /^[A-Za-z0-9][A-Za-z0-9.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const DEVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;

/** "vendor.com/class=name" split into kind and name; undefined when it is not a qualified device name. */
export function parseQualifiedName(name: string): { kind: string; device: string } | undefined {
  const at = name.indexOf('=');
  const kind = name.slice(0, at);
  const device = name.slice(at + 1);
  return at > 0 && KIND.test(kind) && DEVICE_NAME.test(device) ? { kind, device } : undefined;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

class Shape {
  readonly where: string;

  constructor(where: string) {
    this.where = where;
  }

  fail(problem: string): never {
    throw new Error(`${this.where}: ${problem}`);
  }

  object(v: unknown): Json {
    return isObject(v) ? v : this.fail('expected an object');
  }

  at(key: string | number): Shape {
    return new Shape(`${this.where}.${key}`);
  }

  string(v: unknown): string {
    return typeof v === 'string' && v !== '' ? v : this.fail('expected a non-empty string');
  }

  optional<T>(v: unknown, read: (v: unknown) => T): T | undefined {
    return v === undefined || v === null ? undefined : read(v);
  }

  strings(v: unknown): string[] {
    return Array.isArray(v) && v.every((s) => typeof s === 'string') ? v : this.fail('expected a list of strings');
  }

  integer(v: unknown): number {
    return Number.isInteger(v) && (v as number) >= 0 ? (v as number) : this.fail('expected a non-negative integer');
  }

  list<T>(v: unknown, read: (item: unknown, at: Shape) => T): T[] {
    if (!Array.isArray(v)) this.fail('expected a list');
    return v.map((item, i) => read(item, this.at(i)));
  }
}

function deviceNode(v: unknown, s: Shape): CdiDeviceNode {
  const o = s.object(v);
  const type = s
    .at('type')
    .optional(o.type, (t) => (t === 'b' || t === 'c' || t === 'p' ? t : s.at('type').fail('expected "b", "c" or "p"')));
  const permissions = s
    .at('permissions')
    .optional(o.permissions, (p) =>
      typeof p === 'string' && /^[rwm]{1,3}$/.test(p) ? p : s.at('permissions').fail('expected letters of "rwm"'),
    );
  const path = s.at('path').string(o.path);
  if (!path.startsWith('/')) s.at('path').fail('expected an absolute path');
  return dropUndefined({
    path,
    hostPath: s.at('hostPath').optional(o.hostPath, (x) => s.at('hostPath').string(x)),
    type,
    major: s.at('major').optional(o.major, (x) => s.at('major').integer(x)),
    minor: s.at('minor').optional(o.minor, (x) => s.at('minor').integer(x)),
    fileMode: s.at('fileMode').optional(o.fileMode, (x) => s.at('fileMode').integer(x)),
    permissions,
    uid: s.at('uid').optional(o.uid, (x) => s.at('uid').integer(x)),
    gid: s.at('gid').optional(o.gid, (x) => s.at('gid').integer(x)),
  });
}

function mount(v: unknown, s: Shape): CdiMount {
  const o = s.object(v);
  const containerPath = s.at('containerPath').string(o.containerPath);
  if (!containerPath.startsWith('/')) s.at('containerPath').fail('expected an absolute path');
  return dropUndefined({
    hostPath: s.at('hostPath').string(o.hostPath),
    containerPath,
    type: s.at('type').optional(o.type, (x) => s.at('type').string(x)),
    options: s.at('options').optional(o.options, (x) => s.at('options').strings(x)),
  });
}

function hook(v: unknown, s: Shape): CdiHook {
  const o = s.object(v);
  const hookName = s.at('hookName').string(o.hookName);
  if (!(HOOK_NAMES as readonly string[]).includes(hookName))
    s.at('hookName').fail(`expected one of ${HOOK_NAMES.join(', ')}`);
  return dropUndefined({
    hookName: hookName as HookName,
    path: s.at('path').string(o.path),
    args: s.at('args').optional(o.args, (x) => s.at('args').strings(x)),
    env: s.at('env').optional(o.env, (x) => s.at('env').strings(x)),
    timeout: s.at('timeout').optional(o.timeout, (x) => s.at('timeout').integer(x)),
  });
}

function containerEdits(v: unknown, s: Shape): ContainerEdits {
  const o = s.object(v);
  return dropUndefined({
    env: s.at('env').optional(o.env, (x) => s.at('env').strings(x)),
    deviceNodes: s.at('deviceNodes').optional(o.deviceNodes, (x) => s.at('deviceNodes').list(x, deviceNode)),
    mounts: s.at('mounts').optional(o.mounts, (x) => s.at('mounts').list(x, mount)),
    hooks: s.at('hooks').optional(o.hooks, (x) => s.at('hooks').list(x, hook)),
    additionalGids: s
      .at('additionalGids')
      .optional(o.additionalGids, (x) => s.at('additionalGids').list(x, (g, at) => at.integer(g))),
  });
}

function device(v: unknown, s: Shape): CdiDevice {
  const o = s.object(v);
  const name = s.at('name').string(o.name);
  if (!DEVICE_NAME.test(name)) s.at('name').fail(`invalid device name ${JSON.stringify(name)}`);
  return { name, containerEdits: containerEdits(o.containerEdits, s.at('containerEdits')) };
}

/**
 * A spec file's text (JSON is YAML too); rejects with an Error naming the first bad field. The YAML
 * parser loads with the first spec read: nodes without CDI devices never carry it.
 */
export async function parseCdiSpec(text: string): Promise<CdiSpec> {
  const { parse: parseYaml } = await import('yaml');
  const s = new Shape('spec');
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    s.fail(`not JSON or YAML: ${(err as Error).message}`);
  }
  const o = s.object(doc);
  const cdiVersion = s.at('cdiVersion').string(o.cdiVersion);
  if (!/^\d+\.\d+\.\d+$/.test(cdiVersion)) s.at('cdiVersion').fail(`invalid version ${JSON.stringify(cdiVersion)}`);
  const kind = s.at('kind').string(o.kind);
  if (!KIND.test(kind)) s.at('kind').fail(`invalid kind ${JSON.stringify(kind)}: expected "vendor.com/class"`);
  return dropUndefined({
    cdiVersion,
    kind,
    devices: s.at('devices').list(o.devices, device),
    containerEdits: s.at('containerEdits').optional(o.containerEdits, (x) => containerEdits(x, s.at('containerEdits'))),
  });
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
