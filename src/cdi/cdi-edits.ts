// Applies CDI container edits to an OCI spec as the CDI library does: env by variable, device nodes
// (type and numbers from the host node when the spec leaves them out) with a cgroup rule each, mounts
// replacing any at the same destination and then ordered parents first, hooks, extra groups.
import path from 'node:path';
import { failedPrecondition } from '../errors.ts';
import { statDevice } from '../oci/devices.ts';
import { mergeEnv } from '../oci/process.ts';
import type { Device, Mount, Spec } from '../oci/spec-types.ts';
import type { CdiDeviceNode, CdiMount, ContainerEdits } from './cdi-spec.ts';
import type { ResolvedCdiDevice } from './cdi-registry.ts';

export async function applyCdiDevices(spec: Spec, devices: readonly ResolvedCdiDevice[]): Promise<Spec> {
  let out = structuredClone(spec);
  for (const device of devices) {
    for (const edits of device.edits) out = await applyEdits(out, edits, device.name);
  }
  return out;
}

async function applyEdits(spec: Spec, edits: ContainerEdits, deviceName: string): Promise<Spec> {
  if (edits.env) spec.process.env = mergeEnv(spec.process.env, edits.env);
  for (const node of edits.deviceNodes ?? [])
    addDeviceNode(spec, await deviceFor(node, deviceName), node.permissions ?? 'rwm');
  if (edits.mounts?.length) spec.mounts = withMounts(spec.mounts, edits.mounts);
  for (const { hookName, ...hook } of edits.hooks ?? []) {
    spec.hooks = { ...spec.hooks, [hookName]: [...(spec.hooks?.[hookName] ?? []), hook] };
  }
  if (edits.additionalGids?.length) {
    const gids = spec.process.user.additionalGids ?? [];
    spec.process.user.additionalGids = [...gids, ...edits.additionalGids.filter((g) => !gids.includes(g))];
  }
  return spec;
}

/** The node as the spec gives it, completed from the host node (hostPath, else path) where it leaves numbers out. */
async function deviceFor(node: CdiDeviceNode, deviceName: string): Promise<Device> {
  const given = {
    path: node.path,
    ...(node.uid !== undefined && { uid: node.uid }),
    ...(node.gid !== undefined && { gid: node.gid }),
  };
  if (node.type === 'p' || (node.type && node.major !== undefined)) {
    return {
      ...given,
      type: node.type,
      major: node.major ?? 0,
      minor: node.minor ?? 0,
      ...(node.fileMode !== undefined && { fileMode: node.fileMode }),
    };
  }
  const hostPath = node.hostPath ?? node.path;
  const host = await statDevice(hostPath).catch(() => undefined);
  const where = `CDI device ${JSON.stringify(deviceName)}: device node ${hostPath}`;
  if (!host) throw failedPrecondition(`${where} is not a device node on this host`);
  if (node.type && node.type !== host.type)
    throw failedPrecondition(`${where} is of type "${host.type}", the spec says "${node.type}"`);
  return { ...given, type: host.type, major: host.major, minor: host.minor, fileMode: node.fileMode ?? host.fileMode };
}

function addDeviceNode(spec: Spec, device: Device, access: string): void {
  spec.linux.devices = [...(spec.linux.devices ?? []).filter((d) => d.path !== device.path), device];
  if (device.type === 'p') return;
  spec.linux.resources.devices.push({
    allow: true,
    type: device.type,
    major: device.major,
    minor: device.minor,
    access,
  });
}

const depth = (m: Mount) => path.posix.resolve('/', m.destination).split('/').filter(Boolean).length;

function withMounts(mounts: readonly Mount[], added: readonly CdiMount[]): Mount[] {
  const replaced = new Set(added.map((m) => path.posix.resolve('/', m.containerPath)));
  const kept = mounts.filter((m) => !replaced.has(path.posix.resolve('/', m.destination)));
  const all = [...kept, ...added.map(ociMount)];
  return all
    .map((m, i) => ({ m, i }))
    .sort((a, b) => depth(a.m) - depth(b.m) || a.i - b.i)
    .map(({ m }) => m);
}

/** A mount without a type is a bind mount, and gets the "bind" option runc needs for one. */
function ociMount(m: CdiMount): Mount {
  const type = m.type || 'bind';
  const options = m.options ?? [];
  const bind = type === 'bind' && !options.includes('bind') && !options.includes('rbind');
  return { destination: m.containerPath, type, source: m.hostPath, options: bind ? [...options, 'bind'] : options };
}
