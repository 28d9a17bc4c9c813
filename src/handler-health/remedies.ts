// What an admin can do about the OCI runtime failures that come from the host rather than from the
// pod. A deep check's reason keeps the runtime's own message and gets the remedy appended, so
// `crid check --deep`, Status and the refused RunPodSandbox all say both.

interface KnownFailure {
  pattern: RegExp;
  remedy: string;
}

const KNOWN_FAILURES: KnownFailure[] = [
  {
    // crun ≤ 1.8 on a hybrid host (v1 hierarchies plus cgroup2) whose cgroup2 holds a controller.
    pattern: /cgroups in hybrid mode not supported/,
    remedy:
      'remedy: this host mixes cgroup v1 and v2 and its cgroup2 holds controllers ' +
      '(cat /sys/fs/cgroup/unified/cgroup.controllers); move each to a v1 hierarchy, e.g. for hugetlb: ' +
      'mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb none /sys/fs/cgroup/hugetlb ' +
      '(README: "crun on hosts with cgroup v1 and v2 mixed"), then run crid check --deep again',
  },
];

/** `reason`, followed by the remedy of the first known failure it mentions. */
export function withRemedy(reason: string): string {
  const known = KNOWN_FAILURES.find((f) => f.pattern.test(reason));
  return known === undefined ? reason : `${reason}; ${known.remedy}`;
}
