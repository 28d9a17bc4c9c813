// containerd CRI settings crid accepts but does not act on. `config check` warns about each one set
// to anything but containerd's default, so an admin never believes such a setting is in force.

interface NotImplemented {
  /** Values that ask for what crid does anyway (containerd's default, as `containerd config default` writes it). */
  accepted: unknown[];
  /** What the admin should know instead. */
  note?: string;
}

const HANDLER = 'cri.containerd.runtimes.*';

export const NOT_IMPLEMENTED: Record<string, NotImplemented> = {
  'cri.enable_selinux': {
    accepted: [false],
    note: 'crid does not label containers for SELinux; a pod asking for SELinux labels on an SELinux host is refused',
  },
  'cri.selinux_category_range': { accepted: [1024] },
  'cri.systemd_cgroup': { accepted: [false], note: "set SystemdCgroup in the handler's options instead" },
  'cri.tolerate_missing_hugetlb_controller': { accepted: [true] },
  'cri.disable_hugetlb_controller': { accepted: [true] },
  'cri.disable_cgroup': { accepted: [false] },
  'cri.disable_apparmor': { accepted: [false] },
  'cri.disable_proc_mount': { accepted: [false] },
  'cri.unset_seccomp_profile': { accepted: [''] },
  'cri.ignore_image_defined_volumes': { accepted: [false] },
  'cri.netns_mounts_under_state_dir': { accepted: [false] },
  'cri.device_ownership_from_security_context': { accepted: [false] },
  'cri.drain_exec_sync_io_timeout': { accepted: ['0s'] },
  'cri.ignore_deprecation_warnings': { accepted: [[]] },
  'cri.disable_tcp_service': {
    accepted: [true],
    note: 'crid always serves streaming over TCP at stream_server_address',
  },
  'cri.disable_snapshot_annotations': { accepted: [true] },
  'cri.discard_unpacked_layers': { accepted: [false] },
  'cri.image_pull_with_sync_fs': { accepted: [false] },
  'cri.stats_collect_period': { accepted: [10] },
  'cri.image_decryption.key_model': { accepted: ['node'], note: 'crid cannot pull encrypted images' },
  'cri.use_local_image_pull': { accepted: [false] },
  'cri.runtime_platforms': { accepted: [{}] },
  'cri.registry.auths': { accepted: [{}], note: 'pass credentials with the pull (ImagePullSecrets)' },
  'cri.registry.headers': { accepted: [{}], note: 'set `header` in hosts.toml under config_path' },
  'cri.cni.conf_template': { accepted: [''] },
  'cri.cni.ip_pref': { accepted: [''] },
  'cri.cni.setup_serially': { accepted: [false] },
  'cri.cni.use_internal_loopback': { accepted: [false] },
  'cri.containerd.no_pivot': { accepted: [false] },
  'cri.containerd.disable_snapshot_annotations': { accepted: [true] },
  'cri.containerd.discard_unpacked_layers': { accepted: [false] },
  'cri.containerd.ignore_rdt_not_enabled_errors': { accepted: [false] },
  'cri.containerd.ignore_blockio_not_enabled_errors': { accepted: [false] },
  [`${HANDLER}.sandbox_mode`]: {
    accepted: ['podsandbox', ''],
    note: 'crid runs every pod sandbox as a pause container (podsandbox)',
  },
  [`${HANDLER}.sandboxer`]: {
    accepted: ['podsandbox', ''],
    note: 'crid runs every pod sandbox as a pause container (podsandbox)',
  },
  [`${HANDLER}.io_type`]: { accepted: [''] },
  [`${HANDLER}.cgroup_writable`]: { accepted: [false] },
};

/** The key as listed above: handler names (and the legacy default/untrusted handler tables) as `*`. */
function listedKey(canonical: readonly string[]): string {
  const [cri, containerd, table] = canonical;
  if (cri === 'cri' && containerd === 'containerd') {
    if (table === 'runtimes' && canonical.length > 4) return [HANDLER, ...canonical.slice(4)].join('.');
    if ((table === 'default_runtime' || table === 'untrusted_workload_runtime') && canonical.length > 3)
      return [HANDLER, ...canonical.slice(3)].join('.');
  }
  return canonical.join('.');
}

const same = (a: unknown, b: unknown): boolean =>
  JSON.stringify(a, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)) === JSON.stringify(b);

/** The warning for a key crid does not implement, set to something other than containerd's default. */
export function notImplementedWarning(canonical: readonly string[], value: unknown): string | undefined {
  const key = listedKey(canonical);
  const entry = NOT_IMPLEMENTED[key];
  if (!entry || entry.accepted.some((v) => same(value, v))) return undefined;
  const name = canonical.at(-1)!;
  return `crid does not implement \`${name}\`: this setting has no effect${entry.note ? ` (${entry.note})` : ''}`;
}
