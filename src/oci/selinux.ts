// crid does not label processes or files for SELinux. On a host where SELinux is on, a pod that
// asks for labels is refused rather than run unlabelled; elsewhere the labels mean nothing and are
// ignored, as containerd does with SELinux off.
import { failedPrecondition } from '../errors.ts';
import type { SELinuxOption__Output } from '../generated/runtime/v1/SELinuxOption.ts';

export function checkSelinuxLabels(
  options: SELinuxOption__Output | null | undefined,
  selinuxEnabled: boolean,
  field: string,
): void {
  if (!selinuxEnabled || !options) return;
  if (![options.user, options.role, options.type, options.level].some((v) => v)) return;
  throw failedPrecondition(
    `${field}.selinux_options: SELinux is enabled on this host, but crid cannot label containers; refusing to run them unlabelled`,
  );
}
