import { describe, expect, it } from 'vitest';
import { withRemedy } from './remedies.ts';

describe('withRemedy', () => {
  it("keeps crun's hybrid-mode message and appends the mount that moves the controller to v1", () => {
    const reason =
      'deep check: OCI runtime create failed: cgroups in hybrid mode not supported, drop all controllers from cgroupv2';
    const out = withRemedy(reason);
    expect(out.startsWith(`${reason}; remedy: `)).toBe(true);
    expect(out).toContain('mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb none /sys/fs/cgroup/hugetlb');
  });

  it('leaves other reasons as they are', () => {
    expect(withRemedy('deep check: exec format error')).toBe('deep check: exec format error');
  });
});
