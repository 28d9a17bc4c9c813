import { describe, expect, it } from 'vitest';
import { buildSandboxSpec, type SandboxSpecInput } from './sandbox-spec.ts';
import { serializeSpec } from './spec-types.ts';
import {
  handler,
  hostFacts,
  namespaceOptions,
  podConfig,
  resources,
  sandboxSecurity,
} from '../../test/helpers/oci-requests.ts';

const input = (over: Partial<SandboxSpecInput> = {}): SandboxSpecInput => ({
  config: podConfig(),
  sandboxId: 'sb1',
  handler: handler(),
  imageName: 'registry.k8s.io/pause:3.9',
  imageConfig: { Entrypoint: ['/pause'], Env: ['PATH=/bin', 'A=1'], User: '65535:65535' },
  netnsPath: '/var/run/netns/cni-1',
  files: {
    devShm: '/run/crid/sb1/shm',
    resolvConf: '/run/crid/sb1/resolv.conf',
    hosts: '/run/crid/sb1/hosts',
    hostname: '/run/crid/sb1/hostname',
  },
  host: hostFacts({ oomScoreAdj: 0 }),
  restrictOomScoreAdj: false,
  ...over,
});

const withSecurity = (over: Parameters<typeof sandboxSecurity>[0]) =>
  podConfig({
    linux: { cgroup_parent: '', security_context: sandboxSecurity(over), sysctls: {}, overhead: null, resources: null },
  });

describe('buildSandboxSpec', () => {
  it('builds the pause container spec', () => {
    const spec = buildSandboxSpec(input());
    expect(spec.process).toEqual({
      user: { uid: 65535, gid: 65535, additionalGids: [65535] },
      args: ['/pause'],
      env: ['PATH=/bin', 'A=1'],
      cwd: '/',
      capabilities: expect.objectContaining({ bounding: expect.arrayContaining(['CAP_CHOWN', 'CAP_KILL']) }),
      noNewPrivileges: true,
      oomScoreAdj: -998,
    });
    expect(spec.process.capabilities!.bounding).toHaveLength(14);
    expect(spec.root).toEqual({ path: 'rootfs', readonly: true });
    expect(spec.hostname).toBe('web-host');
    expect(spec.linux.namespaces).toEqual([
      { type: 'mount' },
      { type: 'network', path: '/var/run/netns/cni-1' },
      { type: 'uts' },
      { type: 'pid' },
      { type: 'ipc' },
    ]);
    expect(spec.linux.cgroupsPath).toBe('/process_api/crid/sb1');
    expect(spec.linux.resources).toEqual({ devices: [{ allow: false, access: 'rwm' }], cpu: { shares: 2n } });
    expect(spec.linux.maskedPaths).toContain('/proc/kcore');
    expect(spec.linux.readonlyPaths).toContain('/proc/sys');
    expect(spec.linux.seccomp).toBeUndefined();
    expect(spec.mounts.map((m) => m.destination)).toEqual([
      '/proc',
      '/dev',
      '/dev/pts',
      '/dev/mqueue',
      '/sys',
      '/dev/shm',
      '/etc/resolv.conf',
      '/etc/hosts',
      '/etc/hostname',
    ]);
    expect(spec.mounts.find((m) => m.destination === '/dev/shm')).toEqual({
      destination: '/dev/shm',
      type: 'bind',
      source: '/run/crid/sb1/shm',
      options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'],
    });
    expect(spec.annotations['io.kubernetes.cri.container-type']).toBe('sandbox');
    expect(spec.annotations['io.kubernetes.cri.sandbox-id']).toBe('sb1');
    expect(spec.annotations['io.kubernetes.cri.runtime-handler']).toBe('runc');
    expect(JSON.parse(serializeSpec(spec)).linux.resources.cpu.shares).toBe(2);
  });

  it('uses catatonit -P style entrypoint+cmd and refuses an image with neither', () => {
    expect(buildSandboxSpec(input({ imageConfig: { Entrypoint: ['/catatonit'], Cmd: ['-P'] } })).process.args).toEqual([
      '/catatonit',
      '-P',
    ]);
    expect(() => buildSandboxSpec(input({ imageConfig: {} }))).toThrow(/neither entrypoint nor cmd/);
  });

  it('writes sizing annotations with overhead and passes allowed pod annotations', () => {
    const config = podConfig({
      annotations: { 'io.katacontainers.config.hypervisor.default_memory': '512', secret: 'x' },
      linux: {
        cgroup_parent: '/kubepods/burstable/poduid-1',
        security_context: sandboxSecurity(),
        sysctls: {},
        resources: resources({
          cpu_period: '100000',
          cpu_quota: '50000',
          cpu_shares: '512',
          memory_limit_in_bytes: '268435456',
        }),
        overhead: resources({ cpu_period: '100000', cpu_quota: '10000', memory_limit_in_bytes: '67108864' }),
      },
    });
    const spec = buildSandboxSpec(
      input({ config, handler: handler({ name: 'kata', pod_annotations: ['io.katacontainers.*'] }) }),
    );
    expect(spec.annotations).toMatchObject({
      'io.kubernetes.cri.sandbox-cpu-period': '100000',
      'io.kubernetes.cri.sandbox-cpu-quota': '60000',
      'io.kubernetes.cri.sandbox-cpu-shares': '512',
      'io.kubernetes.cri.sandbox-memory': '335544320',
      'io.katacontainers.config.hypervisor.default_memory': '512',
    });
    expect(spec.annotations.secret).toBeUndefined();
    expect(spec.linux.cgroupsPath).toBe('/kubepods/burstable/poduid-1/sb1');
  });

  it('uses the systemd slice form under a .slice parent', () => {
    const config = podConfig({
      linux: {
        cgroup_parent: 'kubepods-besteffort-pod1.slice',
        security_context: null,
        sysctls: {},
        overhead: null,
        resources: null,
      },
    });
    expect(buildSandboxSpec(input({ config })).linux.cgroupsPath).toBe('kubepods-besteffort-pod1.slice:crid:sb1');
  });

  it('shares host namespaces per NamespaceOption', () => {
    const config = withSecurity({ namespace_options: namespaceOptions({ network: 'NODE', pid: 'NODE', ipc: 'NODE' }) });
    const spec = buildSandboxSpec(input({ config }));
    expect(spec.linux.namespaces).toEqual([{ type: 'mount' }]);
    expect(spec.hostname).toBeUndefined();
  });

  it("clamps the pause oom_score_adj to crid's own when restricted", () => {
    expect(
      buildSandboxSpec(input({ restrictOomScoreAdj: true, host: hostFacts({ oomScoreAdj: -500 }) })).process
        .oomScoreAdj,
    ).toBe(-500);
    expect(
      buildSandboxSpec(input({ restrictOomScoreAdj: true, host: hostFacts({ oomScoreAdj: 0 }) })).process.oomScoreAdj,
    ).toBe(0);
  });

  it('applies run_as_user/group, supplemental groups, sysctls and the runtime/default seccomp profile', () => {
    const config = withSecurity({
      run_as_user: { value: '1000' },
      run_as_group: { value: '2000' },
      supplemental_groups: ['3000'],
      seccomp: { profile_type: 'RuntimeDefault', localhost_ref: '' },
    });
    config.linux!.sysctls = { 'net.ipv4.ip_unprivileged_port_start': '0', 'kernel.shm_rmid_forced': '1' };
    const spec = buildSandboxSpec(input({ config }));
    expect(spec.process.user).toEqual({ uid: 1000, gid: 2000, additionalGids: [2000, 3000] });
    expect(spec.linux.sysctl).toEqual({ 'net.ipv4.ip_unprivileged_port_start': '0', 'kernel.shm_rmid_forced': '1' });
    expect(spec.linux.seccomp?.defaultAction).toBe('SCMP_ACT_ERRNO');
  });

  it('opens low ports and ping to non-root processes when configured, unless the pod says otherwise', () => {
    const on = { unprivilegedPorts: true, unprivilegedIcmp: true };
    expect(buildSandboxSpec(input(on)).linux.sysctl).toEqual({
      'net.ipv4.ip_unprivileged_port_start': '0',
      'net.ipv4.ping_group_range': '0 2147483647',
    });
    const own = podConfig({
      linux: {
        cgroup_parent: '',
        security_context: null,
        sysctls: { 'net.ipv4.ip_unprivileged_port_start': '1024' },
        overhead: null,
        resources: null,
      },
    });
    expect(buildSandboxSpec(input({ ...on, config: own })).linux.sysctl!['net.ipv4.ip_unprivileged_port_start']).toBe(
      '1024',
    );
    expect(buildSandboxSpec(input()).linux.sysctl).toEqual({});
    const host = withSecurity({ namespace_options: namespaceOptions({ network: 'NODE' }) });
    expect(buildSandboxSpec(input({ ...on, config: host })).linux.sysctl).toEqual({});
  });

  it("gives a privileged pod crid's capabilities, no masked paths and no seccomp", () => {
    const config = withSecurity({ privileged: true, seccomp: { profile_type: 'RuntimeDefault', localhost_ref: '' } });
    const spec = buildSandboxSpec(
      input({ config, host: hostFacts({ capabilities: ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'] }) }),
    );
    expect(spec.process.capabilities!.bounding).toEqual(['CAP_SYS_ADMIN', 'CAP_NET_ADMIN']);
    expect(spec.linux.maskedPaths).toEqual([]);
    expect(spec.linux.readonlyPaths).toEqual([]);
    expect(spec.linux.seccomp).toBeUndefined();
    expect(spec.mounts.find((m) => m.destination === '/sys')!.options).toContain('rw');
  });

  it('rejects hostile input naming the field', () => {
    expect(() => buildSandboxSpec(input({ config: podConfig({ metadata: null }) }))).toThrow(
      'sandbox config: metadata is required',
    );
    expect(() =>
      buildSandboxSpec(input({ config: podConfig({ metadata: { name: 'a', uid: '', namespace: 'n', attempt: 0 } }) })),
    ).toThrow('sandbox config: metadata.uid is required');
    expect(() => buildSandboxSpec(input({ config: podConfig({ hostname: 'x'.repeat(100_000) }) }))).toThrow(
      /hostname "x{128}…\(100000 chars\)"/,
    );
    const badMode = withSecurity({ namespace_options: namespaceOptions({ network: 7 as unknown as 'POD' }) });
    expect(() => buildSandboxSpec(input({ config: badMode }))).toThrow(/namespace_options\.network: unknown value "7"/);
    const target = withSecurity({ namespace_options: namespaceOptions({ pid: 'TARGET' }) });
    expect(() => buildSandboxSpec(input({ config: target }))).toThrow(/TARGET is not valid for a pod/);
    const hostNetSysctl = withSecurity({ namespace_options: namespaceOptions({ network: 'NODE' }) });
    hostNetSysctl.linux!.sysctls = { 'net.core.somaxconn': '1024' };
    expect(() => buildSandboxSpec(input({ config: hostNetSysctl }))).toThrow(/host-network pod/);
    const badSysctl = podConfig();
    badSysctl.linux!.sysctls = { '../../etc': '1' };
    expect(() => buildSandboxSpec(input({ config: badSysctl }))).toThrow(/not a sysctl name/);
    expect(() => buildSandboxSpec(input({ config: withSecurity({ run_as_user: { value: '-5' } }) }))).toThrow(
      /run_as_user: -5 is outside/,
    );
    expect(() => buildSandboxSpec(input({ imageConfig: { Entrypoint: ['/pause'], User: 'nobody' } }))).toThrow(
      /sandbox image config User "nobody"/,
    );
  });

  it('survives a config whose nested messages are all null', () => {
    const spec = buildSandboxSpec(
      input({ config: podConfig({ linux: null, dns_config: null }), netnsPath: undefined }),
    );
    expect(spec.linux.namespaces).toContainEqual({ type: 'network' });
    expect(spec.linux.sysctl).toEqual({});
  });
});

describe('SELinux labels', () => {
  const labelled = withSecurity({ selinux_options: { user: '', role: '', type: 'container_t', level: 's0:c1,c2' } });

  it('refuses a pod asking for labels on a host with SELinux on, rather than run it unlabelled', () => {
    expect(() => buildSandboxSpec(input({ config: labelled, host: hostFacts({ selinuxEnabled: true }) }))).toThrow(
      /selinux_options: SELinux is enabled on this host, but crid cannot label containers/,
    );
  });

  it('ignores the labels where SELinux is off', () => {
    expect(buildSandboxSpec(input({ config: labelled })).process.args).toEqual(['/pause']);
  });
});
