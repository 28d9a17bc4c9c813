import { describe, expect, it } from 'vitest';
import { buildContainerSpec, type ContainerSpecInput } from './container-spec.ts';
import type { HostDevice } from './devices.ts';
import { execProcessSpec } from './exec-spec.ts';
import { serializeSpec } from './spec-types.ts';
import {
  containerConfig,
  containerSecurity,
  handler,
  hostFacts,
  namespaceOptions,
  podConfig,
  resources,
  sandboxSecurity,
} from '../../test/helpers/oci-requests.ts';

const passwd = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n';
const group = 'root:x:0:\nwheel:x:10:app\napp:x:1000:\n';
const fuse: HostDevice = { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 };
const nullDev: HostDevice = { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 };

type Security = Parameters<typeof containerSecurity>[0];

const input = (over: Partial<ContainerSpecInput> = {}): ContainerSpecInput => ({
  config: containerConfig(),
  containerId: 'c1',
  sandboxId: 'sb1',
  sandboxConfig: podConfig(),
  sandboxPid: 4242,
  netnsPath: '/var/run/netns/cni-1',
  imageName: 'docker.io/library/busybox:latest',
  imageConfig: {
    Entrypoint: ['/entry'],
    Cmd: ['serve', '--port=80'],
    Env: ['PATH=/usr/bin:/bin', 'A=image'],
    WorkingDir: '/srv',
  },
  userFiles: { passwd, group },
  sandboxFiles: {
    hostname: '/run/sb1/hostname',
    hosts: '/run/sb1/hosts',
    resolvConf: '/run/sb1/resolv.conf',
    devShm: '/run/sb1/shm',
  },
  handler: handler(),
  host: hostFacts(),
  devices: { '/dev/fuse': fuse },
  hostDevices: [nullDev, fuse],
  restrictOomScoreAdj: false,
  ...over,
});

const withSecurity = (security: Security, over: Parameters<typeof containerConfig>[0] = {}) =>
  containerConfig({ linux: { resources: null, security_context: containerSecurity(security) }, ...over });

const privilegedPod = podConfig({
  linux: {
    cgroup_parent: '',
    security_context: sandboxSecurity({ privileged: true }),
    sysctls: {},
    overhead: null,
    resources: null,
  },
});

describe('buildContainerSpec: process', () => {
  it('builds the default container', () => {
    const spec = buildContainerSpec(input());
    expect(spec.process).toEqual({
      user: { uid: 0, gid: 0, additionalGids: [0] },
      args: ['/entry', 'serve', '--port=80'],
      env: ['PATH=/usr/bin:/bin', 'HOSTNAME=web-host', 'A=image'],
      cwd: '/srv',
      capabilities: expect.objectContaining({ bounding: expect.any(Array) }),
      noNewPrivileges: false,
    });
    expect(spec.process.capabilities!.effective).toHaveLength(14);
    expect(spec.root).toEqual({ path: 'rootfs', readonly: false });
    expect(spec.hostname).toBeUndefined();
    expect(spec.linux.cgroupsPath).toBe('/process_api/crid/c1');
    expect(spec.annotations).toEqual({
      'io.kubernetes.cri.sandbox-id': 'sb1',
      'io.kubernetes.cri.sandbox-name': 'web',
      'io.kubernetes.cri.sandbox-namespace': 'default',
      'io.kubernetes.cri.sandbox-uid': 'uid-1',
      'io.kubernetes.cri.container-name': 'app',
      'io.kubernetes.cri.image-name': 'docker.io/library/busybox:latest',
      'io.kubernetes.cri.container-type': 'container',
    });
    expect(spec.linux.maskedPaths).toContain('/proc/kcore');
    expect(spec.linux.seccomp).toBeUndefined();
    expect(() => JSON.parse(serializeSpec(spec))).not.toThrow();
  });

  it.each([
    ['image entrypoint + cmd', [], [], { Entrypoint: ['/e'], Cmd: ['c'] }, ['/e', 'c']],
    ['args replace cmd, keep entrypoint', [], ['x', 'y'], { Entrypoint: ['/e'], Cmd: ['c'] }, ['/e', 'x', 'y']],
    ['command replaces both', ['/bin/sh'], [], { Entrypoint: ['/e'], Cmd: ['c'] }, ['/bin/sh']],
    [
      'command + args',
      ['/bin/sh', '-c'],
      ['echo hi'],
      { Entrypoint: ['/e'], Cmd: ['c'] },
      ['/bin/sh', '-c', 'echo hi'],
    ],
    ['cmd only image', [], [], { Cmd: ['/bin/sh'] }, ['/bin/sh']],
    ['ENTRYPOINT [""] is no entrypoint', [], [], { Entrypoint: [''], Cmd: ['/bin/true'] }, ['/bin/true']],
    ['args without any entrypoint', [], ['/bin/echo', 'x'], { Cmd: ['c'] }, ['/bin/echo', 'x']],
  ])('argv: %s', (_name, command, args, imageConfig, want) => {
    expect(buildContainerSpec(input({ config: containerConfig({ command, args }), imageConfig })).process.args).toEqual(
      want,
    );
  });

  it('fails when there is no command at all', () => {
    expect(() => buildContainerSpec(input({ imageConfig: {} }))).toThrow(/no command specified/);
  });

  it('merges env: image then config, later wins in place, TERM for a tty', () => {
    const config = containerConfig({
      tty: true,
      envs: [
        { key: 'A', value: Buffer.from('config') },
        { key: 'B', value: Buffer.from('b=with=equals') },
        { key: 'PATH', value: Buffer.from('/custom') },
      ],
    });
    const spec = buildContainerSpec(input({ config }));
    expect(spec.process.terminal).toBe(true);
    expect(spec.process.env).toEqual([
      'PATH=/custom',
      'TERM=xterm',
      'HOSTNAME=web-host',
      'A=config',
      'B=b=with=equals',
    ]);
  });

  it('uses the node hostname for HOSTNAME in a host-network pod', () => {
    const sandboxConfig = podConfig({
      linux: {
        cgroup_parent: '',
        security_context: sandboxSecurity({ namespace_options: namespaceOptions({ network: 'NODE' }) }),
        sysctls: {},
        overhead: null,
        resources: null,
      },
    });
    expect(buildContainerSpec(input({ sandboxConfig })).process.env).toContain('HOSTNAME=node-1');
  });

  it('takes working_dir from the config over the image', () => {
    expect(buildContainerSpec(input({ config: containerConfig({ working_dir: '/work' }) })).process.cwd).toBe('/work');
    expect(buildContainerSpec(input({ imageConfig: { Cmd: ['/x'] } })).process.cwd).toBe('/');
    expect(() => buildContainerSpec(input({ config: containerConfig({ working_dir: 'rel' }) }))).toThrow(
      /working_dir "rel" must be an absolute path/,
    );
  });

  it('resolves users: numeric, by name, from the image, with groups', () => {
    expect(
      buildContainerSpec(input({ config: withSecurity({ run_as_user: { value: '1000' } }) })).process.user,
    ).toEqual({
      uid: 1000,
      gid: 1000,
      additionalGids: [10, 1000],
    });
    expect(
      buildContainerSpec(
        input({
          config: withSecurity({ run_as_username: 'app', run_as_group: { value: '5' }, supplemental_groups: ['7'] }),
        }),
      ).process.user,
    ).toEqual({
      uid: 1000,
      gid: 5,
      additionalGids: [5, 7, 10],
    });
    expect(buildContainerSpec(input({ imageConfig: { Cmd: ['/x'], User: 'app:root' } })).process.user).toEqual({
      uid: 1000,
      gid: 0,
      additionalGids: [0, 10],
    });
    expect(() => buildContainerSpec(input({ config: withSecurity({ run_as_username: 'nosuch' }) }))).toThrow(
      'container config: linux.security_context.run_as_username "nosuch": no such user "nosuch" in /etc/passwd',
    );
  });
});

describe('buildContainerSpec: security', () => {
  it('adds and drops capabilities, with or without CAP_ prefix', () => {
    const config = withSecurity({
      capabilities: {
        add_capabilities: ['NET_ADMIN', 'cap_sys_ptrace'],
        drop_capabilities: ['KILL', 'CAP_CHOWN'],
        add_ambient_capabilities: [],
      },
    });
    const caps = buildContainerSpec(input({ config })).process.capabilities!;
    expect(caps.bounding).toEqual(expect.arrayContaining(['CAP_NET_ADMIN', 'CAP_SYS_PTRACE']));
    expect(caps.bounding).not.toContain('CAP_KILL');
    expect(caps.bounding).not.toContain('CAP_CHOWN');
    expect(caps.ambient).toBeUndefined();
  });

  it('handles ALL: drop ALL then add one, add ALL', () => {
    const dropAll = withSecurity({
      capabilities: {
        add_capabilities: ['NET_BIND_SERVICE'],
        drop_capabilities: ['ALL'],
        add_ambient_capabilities: [],
      },
    });
    expect(buildContainerSpec(input({ config: dropAll })).process.capabilities!.bounding).toEqual([
      'CAP_NET_BIND_SERVICE',
    ]);
    const addAll = withSecurity({
      capabilities: { add_capabilities: ['ALL'], drop_capabilities: ['SYS_ADMIN'], add_ambient_capabilities: [] },
    });
    const caps = buildContainerSpec(input({ config: addAll })).process.capabilities!.bounding;
    expect(caps).toEqual(hostFacts().capabilities.filter((c) => c !== 'CAP_SYS_ADMIN'));
  });

  it('refuses unknown capabilities and ones crid does not hold', () => {
    const unknown = withSecurity({
      capabilities: { add_capabilities: ['FLY'], drop_capabilities: [], add_ambient_capabilities: [] },
    });
    expect(() => buildContainerSpec(input({ config: unknown }))).toThrow(
      /capabilities\.add_capabilities\[0\]: unknown capability "FLY"/,
    );
    const notHeld = withSecurity({
      capabilities: { add_capabilities: ['SYS_RESOURCE'], drop_capabilities: [], add_ambient_capabilities: [] },
    });
    expect(() => buildContainerSpec(input({ config: notHeld }))).toThrow(/does not hold CAP_SYS_RESOURCE/);
  });

  it("makes a privileged container privileged: crid's caps, host devices, no masked paths, rw sysfs", () => {
    const spec = buildContainerSpec(
      input({
        config: withSecurity({ privileged: true, seccomp: { profile_type: 'RuntimeDefault', localhost_ref: '' } }),
        sandboxConfig: privilegedPod,
      }),
    );
    expect(spec.process.capabilities!.bounding).toEqual(hostFacts().capabilities);
    expect(spec.linux.devices).toEqual([
      { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
      { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 },
    ]);
    expect(spec.linux.resources.devices).toEqual([{ allow: true, access: 'rwm' }]);
    expect(spec.linux.maskedPaths).toEqual([]);
    expect(spec.linux.readonlyPaths).toEqual([]);
    expect(spec.linux.seccomp).toBeUndefined();
    expect(spec.mounts.find((m) => m.destination === '/sys')!.options).toContain('rw');
  });

  it('keeps host devices out with privileged_without_host_devices', () => {
    const spec = buildContainerSpec(
      input({
        config: withSecurity({ privileged: true }),
        sandboxConfig: privilegedPod,
        handler: handler({ privileged_without_host_devices: true }),
      }),
    );
    expect(spec.linux.devices).toBeUndefined();
    expect(spec.linux.resources.devices).toEqual([{ allow: false, access: 'rwm' }]);
  });

  it('refuses a privileged container in an unprivileged pod', () => {
    expect(() => buildContainerSpec(input({ config: withSecurity({ privileged: true }) }))).toThrow(
      /needs a privileged pod/,
    );
  });

  it('sets readonly rootfs, no_new_privs, and masked/readonly paths from the request', () => {
    const spec = buildContainerSpec(
      input({
        config: withSecurity({
          readonly_rootfs: true,
          no_new_privs: true,
          masked_paths: ['/proc/x'],
          readonly_paths: ['/proc/y'],
        }),
      }),
    );
    expect(spec.root.readonly).toBe(true);
    expect(spec.process.noNewPrivileges).toBe(true);
    expect(spec.linux.maskedPaths).toEqual(['/proc/x']);
    expect(spec.linux.readonlyPaths).toEqual(['/proc/y']);
    expect(spec.mounts.find((m) => m.destination === '/etc/hosts')!.options).toContain('ro');
  });

  it('selects seccomp by profile kind', () => {
    const seccompOf = (security: Security, readSeccompProfile?: (p: string) => string) =>
      buildContainerSpec(input({ config: withSecurity(security), readSeccompProfile })).linux.seccomp;
    const runtimeDefault = seccompOf({ seccomp: { profile_type: 'RuntimeDefault', localhost_ref: '' } })!;
    expect(runtimeDefault.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(runtimeDefault.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    expect(runtimeDefault.syscalls![0].names).toContain('read');
    expect(runtimeDefault.syscalls!.some((s) => s.names.includes('clone3') && s.errnoRet === 38)).toBe(true);
    expect(seccompOf({ seccomp_profile_path: 'runtime/default' })!.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(seccompOf({ seccomp: { profile_type: 'Unconfined', localhost_ref: '' } })).toBeUndefined();
    expect(seccompOf({})).toBeUndefined();
    const local = seccompOf({ seccomp: { profile_type: 'Localhost', localhost_ref: '/etc/profiles/p.json' } }, (p) => {
      expect(p).toBe('/etc/profiles/p.json');
      return '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}';
    });
    expect(local).toEqual({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
    });
    expect(() =>
      seccompOf({ seccomp: { profile_type: 'Localhost', localhost_ref: '/nope.json' } }, () => {
        throw new Error('ENOENT: no such file or directory');
      }),
    ).toThrow(/cannot read seccomp profile \/nope\.json: ENOENT/);
    expect(() =>
      seccompOf({ seccomp: { profile_type: 'Localhost', localhost_ref: '/bad.json' } }, () => '{"x":1}'),
    ).toThrow(/\/bad\.json is not an OCI seccomp profile/);
    expect(() => seccompOf({ seccomp: { profile_type: 'Unconfined', localhost_ref: '/p' } })).toThrow(
      /localhost_ref must only be set/,
    );
    expect(() => seccompOf({ seccomp: { profile_type: 9 as unknown as 'Unconfined', localhost_ref: '' } })).toThrow(
      /seccomp\.profile_type: unknown value "9"/,
    );
    expect(() => seccompOf({ seccomp_profile_path: 'bogus' })).toThrow(/invalid profile "bogus"/);
  });

  it('allows privileged syscall groups only with their capability', () => {
    const seccomp = buildContainerSpec(
      input({ config: withSecurity({ seccomp: { profile_type: 'RuntimeDefault', localhost_ref: '' } }) }),
    ).linux.seccomp!;
    const allowed = seccomp.syscalls!.filter((s) => s.action === 'SCMP_ACT_ALLOW' && !s.args).flatMap((s) => s.names);
    expect(allowed).not.toContain('mount');
    expect(allowed).toContain('chroot');
    expect(allowed).not.toContain('reboot');
  });

  it('ignores AppArmor RuntimeDefault without AppArmor but refuses a Localhost profile', () => {
    expect(
      buildContainerSpec(
        input({ config: withSecurity({ apparmor: { profile_type: 'RuntimeDefault', localhost_ref: '' } }) }),
      ).process.apparmorProfile,
    ).toBeUndefined();
    expect(
      buildContainerSpec(input({ config: withSecurity({ apparmor_profile: 'runtime/default' }) })).process
        .apparmorProfile,
    ).toBeUndefined();
    expect(() =>
      buildContainerSpec(
        input({ config: withSecurity({ apparmor: { profile_type: 'Localhost', localhost_ref: 'my-profile' } }) }),
      ),
    ).toThrow(/AppArmor profile "my-profile" requested, but AppArmor is not enabled/);
    const enabled = hostFacts({ apparmor: { enabled: true, defaultProfile: 'crid-default', profilesFile: '' } });
    expect(buildContainerSpec(input({ host: enabled })).process.apparmorProfile).toBe('crid-default');
    expect(
      buildContainerSpec(
        input({
          host: enabled,
          config: withSecurity({ apparmor: { profile_type: 'Localhost', localhost_ref: 'localhost/p1' } }),
        }),
      ).process.apparmorProfile,
    ).toBe('p1');
  });
});

describe('buildContainerSpec: namespaces, mounts, devices, resources', () => {
  it("joins the pod's namespaces and takes pid per NamespaceOption", () => {
    const nsOf = (pid: 'POD' | 'CONTAINER' | 'NODE' | 'TARGET', extra: Partial<ContainerSpecInput> = {}) =>
      buildContainerSpec(
        input({
          config: withSecurity({
            namespace_options: namespaceOptions({ pid, target_id: pid === 'TARGET' ? 'c0' : '' }),
          }),
          ...extra,
        }),
      ).linux.namespaces;
    expect(nsOf('CONTAINER')).toEqual([
      { type: 'mount' },
      { type: 'network', path: '/var/run/netns/cni-1' },
      { type: 'uts', path: '/proc/4242/ns/uts' },
      { type: 'ipc', path: '/proc/4242/ns/ipc' },
      { type: 'pid' },
    ]);
    expect(nsOf('POD')).toContainEqual({ type: 'pid', path: '/proc/4242/ns/pid' });
    expect(nsOf('NODE').some((n) => n.type === 'pid')).toBe(false);
    expect(nsOf('TARGET', { targetPid: 777 })).toContainEqual({ type: 'pid', path: '/proc/777/ns/pid' });
    expect(() => nsOf('TARGET')).toThrow(/target container "c0" has no running process/);
    expect(buildContainerSpec(input({ host: hostFacts({ cgroupV2: true }) })).linux.namespaces).toContainEqual({
      type: 'cgroup',
    });
  });

  it('shares the host network/ipc of a host pod', () => {
    const sandboxConfig = podConfig({
      linux: {
        cgroup_parent: '',
        security_context: sandboxSecurity({ namespace_options: namespaceOptions({ network: 'NODE', ipc: 'NODE' }) }),
        sysctls: {},
        overhead: null,
        resources: null,
      },
    });
    expect(buildContainerSpec(input({ sandboxConfig })).linux.namespaces).toEqual([{ type: 'mount' }, { type: 'pid' }]);
  });

  it('mounts CRI mounts with propagation after the defaults and pod files', () => {
    const config = containerConfig({
      mounts: [
        {
          container_path: '/data/sub',
          host_path: '/srv/sub',
          readonly: true,
          selinux_relabel: false,
          propagation: 'PROPAGATION_PRIVATE',
          uidMappings: [],
          gidMappings: [],
          recursive_read_only: false,
          image: null,
          image_sub_path: '',
        },
        {
          container_path: '/data',
          host_path: '/srv/data',
          readonly: false,
          selinux_relabel: false,
          propagation: 'PROPAGATION_HOST_TO_CONTAINER',
          uidMappings: [],
          gidMappings: [],
          recursive_read_only: false,
          image: null,
          image_sub_path: '',
        },
        {
          container_path: '/etc/hosts',
          host_path: '/my/hosts',
          readonly: false,
          selinux_relabel: false,
          propagation: 'PROPAGATION_BIDIRECTIONAL',
          uidMappings: [],
          gidMappings: [],
          recursive_read_only: false,
          image: null,
          image_sub_path: '',
        },
      ],
    });
    const spec = buildContainerSpec(input({ config }));
    expect(spec.mounts.map((m) => `${m.destination}<${m.source}`)).toEqual([
      '/proc<proc',
      '/dev<tmpfs',
      '/dev/pts<devpts',
      '/dev/mqueue<mqueue',
      '/sys<sysfs',
      '/sys/fs/cgroup<cgroup',
      '/etc/hostname</run/sb1/hostname',
      '/etc/resolv.conf</run/sb1/resolv.conf',
      '/dev/shm</run/sb1/shm',
      '/data</srv/data',
      '/data/sub</srv/sub',
      '/etc/hosts</my/hosts',
    ]);
    expect(spec.mounts.find((m) => m.destination === '/data')!.options).toEqual(['rbind', 'rslave', 'rw']);
    expect(spec.mounts.find((m) => m.destination === '/data/sub')!.options).toEqual(['rbind', 'rprivate', 'ro']);
    expect(spec.mounts.find((m) => m.destination === '/etc/hosts')!.options).toEqual(['rbind', 'rshared', 'rw']);
    expect(spec.linux.rootfsPropagation).toBe('rshared');
  });

  it('rejects bad mounts naming the field', () => {
    const mount = (over: object) =>
      containerConfig({
        mounts: [
          {
            container_path: '/x',
            host_path: '/y',
            readonly: false,
            selinux_relabel: false,
            propagation: 'PROPAGATION_PRIVATE',
            uidMappings: [],
            gidMappings: [],
            recursive_read_only: false,
            image: null,
            image_sub_path: '',
            ...over,
          },
        ],
      });
    expect(() => buildContainerSpec(input({ config: mount({ container_path: 'rel' }) }))).toThrow(
      /mounts\[0\]\.container_path "rel"/,
    );
    expect(() => buildContainerSpec(input({ config: mount({ propagation: 5 }) }))).toThrow(
      /mounts\[0\]\.propagation: unknown value "5"/,
    );
    expect(() => buildContainerSpec(input({ config: mount({ recursive_read_only: true, readonly: true }) }))).toThrow(
      /recursive_read_only/,
    );
  });

  it('adds requested devices with their cgroup rule', () => {
    const config = containerConfig({
      devices: [{ container_path: '/dev/myfuse', host_path: '/dev/fuse', permissions: 'rw' }],
    });
    const spec = buildContainerSpec(input({ config }));
    expect(spec.linux.devices).toEqual([
      { path: '/dev/myfuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 },
    ]);
    expect(spec.linux.resources.devices).toEqual([
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
    ]);
    const missing = containerConfig({
      devices: [{ container_path: '/dev/x', host_path: '/dev/nothing', permissions: 'rwm' }],
    });
    expect(() => buildContainerSpec(input({ config: missing }))).toThrow(
      /devices\[0\]\.host_path "\/dev\/nothing" is not a device node/,
    );
    const badPerm = containerConfig({
      devices: [{ container_path: '/dev/x', host_path: '/dev/fuse', permissions: 'rwx' }],
    });
    expect(() => buildContainerSpec(input({ config: badPerm }))).toThrow(/permissions "rwx"/);
  });

  it('maps resources, clamps oom_score_adj when restricted, drops hugepages without hugetlb', () => {
    const res = resources({
      cpu_period: '100000',
      cpu_quota: '50000',
      cpu_shares: '256',
      memory_limit_in_bytes: '134217728',
      oom_score_adj: '-997',
      cpuset_cpus: '0-1',
      cpuset_mems: '0',
      hugepage_limits: [{ page_size: '2MB', limit: '0' }],
    });
    const config = containerConfig({ linux: { resources: res, security_context: containerSecurity() } });
    const spec = buildContainerSpec(
      input({ config, restrictOomScoreAdj: true, host: hostFacts({ oomScoreAdj: -500 }) }),
    );
    expect(spec.process.oomScoreAdj).toBe(-500);
    expect(spec.linux.resources).toEqual({
      devices: [{ allow: false, access: 'rwm' }],
      cpu: { period: 100000n, quota: 50000n, shares: 256n, cpus: '0-1', mems: '0' },
      memory: { limit: 134217728n, swap: 134217728n },
    });
    const unrestricted = buildContainerSpec(input({ config, host: hostFacts({ hugetlbAvailable: true }) }));
    expect(unrestricted.process.oomScoreAdj).toBe(-997);
    expect(unrestricted.linux.resources.hugepageLimits).toEqual([{ pageSize: '2MB', limit: 0n }]);
    expect(serializeSpec(unrestricted)).toContain('"limit": 134217728');
  });

  it('rejects bad resources naming the field', () => {
    const withRes = (over: Parameters<typeof resources>[0]) =>
      containerConfig({ linux: { resources: resources(over), security_context: null } });
    expect(() => buildContainerSpec(input({ config: withRes({ oom_score_adj: '-1001' }) }))).toThrow(
      /linux\.resources\.oom_score_adj: -1001 is outside \[-1000, 1000\]/,
    );
    expect(() => buildContainerSpec(input({ config: withRes({ cpuset_cpus: '0-a' }) }))).toThrow(/cpuset_cpus/);
    expect(() => buildContainerSpec(input({ config: withRes({ memory_limit_in_bytes: '-5' }) }))).toThrow(
      /memory_limit_in_bytes: -5 is negative/,
    );
    expect(() => buildContainerSpec(input({ config: withRes({ unified: { 'memory.high': '1' } }) }))).toThrow(
      /unified: needs cgroup v2/,
    );
    expect(() =>
      buildContainerSpec(input({ config: withRes({ hugepage_limits: [{ page_size: 'huge', limit: '1' }] }) })),
    ).toThrow(/page_size: "huge"/);
  });

  it('passes allowed pod and container annotations', () => {
    const sandboxConfig = podConfig({ annotations: { 'kata.pod/x': '1', other: '2' } });
    const config = containerConfig({ annotations: { 'kata.ctr/y': '3', z: '4' } });
    const spec = buildContainerSpec(
      input({
        sandboxConfig,
        config,
        handler: handler({ pod_annotations: ['kata.pod/*'], container_annotations: ['kata.ctr/*'] }),
      }),
    );
    expect(spec.annotations['kata.pod/x']).toBe('1');
    expect(spec.annotations['kata.ctr/y']).toBe('3');
    expect(spec.annotations.other).toBeUndefined();
    expect(spec.annotations.z).toBeUndefined();
  });
});

describe('buildContainerSpec: hostile input', () => {
  it('refuses missing metadata, bad envs, user namespaces; survives null nested messages', () => {
    expect(() => buildContainerSpec(input({ config: containerConfig({ metadata: null }) }))).toThrow(
      'container config: metadata.name is required',
    );
    expect(() =>
      buildContainerSpec(input({ config: containerConfig({ envs: [{ key: 'A=B', value: Buffer.from('x') }] }) })),
    ).toThrow(/envs\[0\]\.key "A=B"/);
    expect(() =>
      buildContainerSpec(input({ config: containerConfig({ envs: [{ key: 'A', value: Buffer.from('x\0y') }] }) })),
    ).toThrow(/NUL byte/);
    const userns = withSecurity({
      namespace_options: namespaceOptions({ userns_options: { mode: 'POD', uids: [], gids: [] } }),
    });
    expect(() => buildContainerSpec(input({ config: userns }))).toThrow(/user namespaces are not supported/);
    const spec = buildContainerSpec(
      input({
        config: containerConfig({ linux: null, image: null }),
        sandboxConfig: podConfig({ linux: null, metadata: null }),
      }),
    );
    expect(spec.process.user.uid).toBe(0);
    expect(spec.annotations['io.kubernetes.cri.sandbox-name']).toBe('');
    const huge = 'v'.repeat(1_000_000);
    const big = buildContainerSpec(
      input({
        config: containerConfig({ envs: [{ key: 'BIG', value: Buffer.from(huge) }], annotations: { k: huge } }),
      }),
    );
    expect(big.process.env).toContain(`BIG=${huge}`);
  });
});

describe('execProcessSpec', () => {
  it('runs cmd as the container process, TERM only with a tty', () => {
    const spec = buildContainerSpec(input({ config: withSecurity({ run_as_user: { value: '1000' } }) }));
    const exec = execProcessSpec(spec.process, ['/bin/sh', '-c', 'id'], false);
    expect(exec).toEqual({ ...spec.process, args: ['/bin/sh', '-c', 'id'] });
    expect(exec.terminal).toBeUndefined();
    const tty = execProcessSpec(spec.process, ['/bin/sh'], true);
    expect(tty.terminal).toBe(true);
    expect(tty.env).toContain('TERM=xterm');
    expect(spec.process.env).not.toContain('TERM=xterm');
    expect(() => execProcessSpec(spec.process, [], false)).toThrow('exec: cmd is empty');
  });
});

describe('SELinux labels', () => {
  it('refuses a container asking for labels on a host with SELinux on', () => {
    const config = containerConfig({
      linux: {
        resources: null,
        security_context: containerSecurity({ selinux_options: { user: '', role: '', type: 'spc_t', level: '' } }),
      },
    });
    expect(() => buildContainerSpec(input({ config, host: hostFacts({ selinuxEnabled: true }) }))).toThrow(
      /security_context\.selinux_options: SELinux is enabled/,
    );
    expect(buildContainerSpec(input({ config })).process.args.length).toBeGreaterThan(0);
  });
});
