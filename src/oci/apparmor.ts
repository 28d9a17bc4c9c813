// AppArmor for CRI security profiles.
//
// With AppArmor enabled, crid does what containerd does: an unset profile means the runtime default
// (crid's own profile, generated like containerd's and loaded on first use), privileged containers get
// none, Localhost names a profile the host has loaded.
// Without AppArmor (this project's test machines: no LSM in the kernel), containerd (1.6 to 2.x)
// fails every request that is not Unconfined with "apparmor is not supported", including
// RuntimeDefault. kubelet does not send profiles to such nodes, but other clients do, so crid is
// lenient where nothing is lost: RuntimeDefault (and unset) run unconfined like CRI-O does, while an
// explicit Localhost profile is refused — running it unconfined would silently drop a policy.
import { invalidArgument } from '../errors.ts';
import { quote } from './cri-values.ts';
import type { Profile } from './seccomp.ts';

export interface AppArmorHost {
  enabled: boolean;
  /** The profile RuntimeDefault maps to; "" for none. */
  defaultProfile: string;
  /** The kernel's list of loaded profiles (securityfs). */
  profilesFile: string;
}

/** process.apparmorProfile, or undefined for none. */
export function apparmorProfileFor(
  profile: Profile | undefined,
  privileged: boolean,
  host: AppArmorHost,
  field: string,
): string | undefined {
  if (!host.enabled) {
    if (profile?.kind === 'Localhost') {
      throw invalidArgument(
        `${field}: AppArmor profile ${quote(profile.localhostRef)} requested, but AppArmor is not enabled on this host`,
      );
    }
    return undefined;
  }
  switch (profile?.kind ?? 'RuntimeDefault') {
    case 'Unconfined':
      return undefined;
    case 'RuntimeDefault':
      return privileged || host.defaultProfile === '' ? undefined : host.defaultProfile;
    case 'Localhost':
      return profile!.localhostRef;
  }
}
