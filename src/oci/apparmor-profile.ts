// crid's RuntimeDefault AppArmor profile: generated like containerd's cri-containerd.apparmor.d
// (contrib/apparmor/template.go) and loaded with apparmor_parser the first time a container needs it.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { tryCommand } from '../util/command.ts';
import { failedPrecondition } from '../errors.ts';
import type { AppArmorHost } from './apparmor.ts';

export const DEFAULT_PROFILE_NAME = 'crid.apparmor.d';

/** The profile text; `daemonProfile` is the profile crid itself runs under (it may signal containers). */
export function defaultProfileText(name: string, daemonProfile = 'unconfined'): string {
  const signals = [
    '  # Host (privileged) processes may send signals to container processes.',
    '  signal (receive) peer=unconfined,',
    ...(daemonProfile === 'unconfined'
      ? []
      : ['  # The daemon may send signals to container processes.', `  signal (receive) peer=${daemonProfile},`]),
    '  # Container processes may send signals amongst themselves.',
    `  signal (send,receive) peer=${name},`,
  ];
  return `#include <tunables/global>

profile ${name} flags=(attach_disconnected,mediate_deleted) {
  #include <abstractions/base>

  network,
  capability,
  file,
  umount,
${signals.join('\n')}

  deny @{PROC}/* w,   # deny write for all files directly in /proc (not in a subdir)
  # deny write to files not in /proc/<number>/** or /proc/sys/**
  deny @{PROC}/{[^1-9],[^1-9][^0-9],[^1-9s][^0-9y][^0-9s],[^1-9][^0-9][^0-9][^0-9/]*}/** w,
  deny @{PROC}/sys/[^k]** w,  # deny /proc/sys except /proc/sys/k* (effectively /proc/sys/kernel)
  deny @{PROC}/sys/kernel/{?,??,[^s][^h][^m]**} w,  # deny everything except shm* in /proc/sys/kernel/
  deny @{PROC}/sysrq-trigger rwklx,
  deny @{PROC}/kcore rwklx,

  deny mount,

  deny /sys/[^f]*/** wklx,
  deny /sys/f[^s]*/** wklx,
  deny /sys/fs/[^c]*/** wklx,
  deny /sys/fs/c[^g]*/** wklx,
  deny /sys/fs/cg[^r]*/** wklx,
  deny /sys/firmware/** rwklx,
  deny /sys/devices/virtual/powercap/** rwklx,
  deny /sys/kernel/security/** rwklx,

  # suppress ptrace denials when using 'ps' inside a container
  ptrace (trace,read,tracedby,readby) peer=${name},
}
`;
}

/** Profile names the kernel has loaded ("name (mode)" lines of the securityfs profiles file). */
export async function loadedProfiles(host: AppArmorHost): Promise<Set<string>> {
  const text = await fs.readFile(host.profilesFile, 'utf8').catch(() => '');
  return new Set(
    text
      .split('\n')
      .map((l) => l.replace(/ \([^)]*\)$/, '').trim())
      .filter(Boolean),
  );
}

/** Loads (or replaces) a profile with apparmor_parser, keeping it in the kernel's cache (-K). */
export async function loadProfile(text: string, parser = 'apparmor_parser'): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'crid-apparmor-'));
  try {
    const file = path.join(dir, 'profile');
    await fs.writeFile(file, text);
    const result = await tryCommand(parser, ['-Kr', file]);
    if (result.failed) throw failedPrecondition(`loading the AppArmor profile failed: ${result.message}`);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/**
 * Makes sure the profile a container spec names is loaded: crid's default is loaded on first use,
 * any other (a Localhost profile) must have been loaded by the admin.
 */
export async function ensureProfileLoaded(
  profile: string,
  host: AppArmorHost,
  load: (text: string) => Promise<void> = loadProfile,
): Promise<void> {
  if ((await loadedProfiles(host)).has(profile)) return;
  if (profile !== host.defaultProfile) {
    throw failedPrecondition(
      `AppArmor profile ${JSON.stringify(profile)} is not loaded on this host (load it with apparmor_parser first)`,
    );
  }
  await load(defaultProfileText(profile));
}
