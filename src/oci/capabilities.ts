// Linux capabilities of container processes: containerd's default set, CRI add/drop (with ALL), and
// the set a privileged container gets — the capabilities crid itself holds, not every known one: on a
// host without CAP_SYS_RESOURCE in the bounding set runc cannot grant it and fails with EPERM.
import { invalidArgument } from '../errors.ts';
import type { Capability__Output } from '../generated/runtime/v1/Capability.ts';
import { quote } from './cri-values.ts';
import type { Capabilities } from './spec-types.ts';

/** Every capability by bit number (include/uapi/linux/capability.h, up to Linux 5.9). */
export const KNOWN_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
] as const;

/** containerd's (and Docker's) default capabilities of a container process. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** The names of the bits set in a /proc/<pid>/status capability mask (e.g. `CapEff: 000001fffeffffff`). */
export function capabilitiesFromMask(hexMask: string): string[] {
  const mask = BigInt(`0x${hexMask.trim() || '0'}`);
  return KNOWN_CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

/** The capability set with the same list in bounding, effective and permitted, no ambient. */
export function capabilitySet(names: readonly string[]): Capabilities {
  return { bounding: [...names], effective: [...names], permitted: [...names] };
}

/**
 * The capabilities after a CRI add/drop request, as containerd applies it: add ALL → all crid holds;
 * drop ALL → none; then the named adds, then the named drops (a name in both ends up dropped).
 * Names may be given with or without `CAP_`, in any case.
 */
export function applyCapabilityRequest(
  request: Capability__Output | null | undefined,
  base: readonly string[],
  held: readonly string[],
  field: string,
): string[] {
  if (!request) return [...base];
  const add = (request.add_capabilities ?? []).map((c, i) => normalize(c, `${field}.add_capabilities[${i}]`));
  const drop = (request.drop_capabilities ?? []).map((c, i) => normalize(c, `${field}.drop_capabilities[${i}]`));
  let caps = [...base];
  if (add.includes('ALL')) caps = [...held];
  if (drop.includes('ALL')) caps = [];
  add.forEach((cap, i) => {
    if (cap === 'ALL' || caps.includes(cap)) return;
    if (!held.includes(cap)) {
      throw invalidArgument(
        `${field}.add_capabilities[${i}]: crid does not hold ${cap} itself, so no container can be given it`,
      );
    }
    caps.push(cap);
  });
  return caps.filter((cap) => !drop.includes(cap));
}

function normalize(name: string, field: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return upper;
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!(KNOWN_CAPABILITIES as readonly string[]).includes(full))
    throw invalidArgument(`${field}: unknown capability ${quote(name)}`);
  return full;
}
