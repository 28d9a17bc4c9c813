// A minimal OCI runtime spec for shim tests: private pid/ipc/uts/mount namespaces, host network,
// default capabilities, no oom_score_adj (it could not be lowered here).
import { DEFAULT_CAPABILITIES } from '../../src/oci/capabilities.ts';
import type { Process, Spec } from '../../src/oci/spec-types.ts';

const CAPS = [...DEFAULT_CAPABILITIES];

export function processSpec(args: string[]): Process {
  return {
    terminal: false,
    user: { uid: 0, gid: 0 },
    args,
    env: ['PATH=/bin', 'HOME=/root'],
    cwd: '/',
    capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS },
    noNewPrivileges: true,
  };
}

export function testSpec(args: string[], cgroupsPath: string, annotations: Record<string, string> = {}): Spec {
  return {
    ociVersion: '1.0.2',
    process: processSpec(args),
    root: { path: 'rootfs', readonly: false },
    hostname: 'shimtest',
    annotations,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      {
        destination: '/dev',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
      },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    linux: {
      cgroupsPath,
      resources: { devices: [] },
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/kcore'],
      readonlyPaths: ['/proc/sys'],
    },
  };
}
