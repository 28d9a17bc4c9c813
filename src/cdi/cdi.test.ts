import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../log.ts';
import { containerConfig } from '../../test/helpers/oci-requests.ts';
import type { Spec } from '../oci/spec-types.ts';
import { applyCdiDevices } from './cdi-edits.ts';
import { CdiRegistry } from './cdi-registry.ts';
import { requestedCdiDevices } from './cdi-requests.ts';
import { parseCdiSpec } from './cdi-spec.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function specDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-cdi-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

const spec = (kind: string, devices: Array<{ name: string; env: string[] }>) =>
  JSON.stringify({
    cdiVersion: '0.6.0',
    kind,
    devices: devices.map((d) => ({ name: d.name, containerEdits: { env: d.env } })),
  });

const baseSpec = (): Spec => ({
  ociVersion: '1.0.2-dev',
  process: { user: { uid: 0, gid: 0 }, args: ['sh'], env: ['PATH=/bin', 'A=1'], cwd: '/' },
  root: { path: 'rootfs' },
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc', options: [] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: [] },
    { destination: '/data/sub', type: 'bind', source: '/tmp', options: ['rbind'] },
  ],
  annotations: {},
  linux: {
    namespaces: [],
    resources: { devices: [{ allow: false, access: 'rwm' }] },
    maskedPaths: [],
    readonlyPaths: [],
  },
});

describe('parseCdiSpec', () => {
  it('reads a YAML spec with every kind of edit', async () => {
    const parsed = await parseCdiSpec(`cdiVersion: 0.6.0
kind: vendor.com/gpu
containerEdits:
  env: [COMMON=1]
devices:
  - name: gpu0
    containerEdits:
      deviceNodes: [{path: /dev/gpu0, hostPath: /dev/null, permissions: rw}]
      mounts: [{hostPath: /lib/gpu, containerPath: /usr/lib/gpu, options: [ro, bind]}]
      hooks: [{hookName: createContainer, path: /bin/true, args: ["true", x]}]
`);
    expect(parsed.kind).toBe('vendor.com/gpu');
    expect(parsed.containerEdits).toEqual({ env: ['COMMON=1'] });
    expect(parsed.devices[0]!.containerEdits.deviceNodes).toEqual([
      { path: '/dev/gpu0', hostPath: '/dev/null', permissions: 'rw' },
    ]);
    expect(parsed.devices[0]!.containerEdits.hooks).toEqual([
      { hookName: 'createContainer', path: '/bin/true', args: ['true', 'x'] },
    ]);
  });

  it('names the field that is wrong', async () => {
    await expect(parseCdiSpec('{"cdiVersion":"0.6.0","kind":"nokind","devices":[]}')).rejects.toThrow(
      'spec.kind: invalid kind "nokind"',
    );
    await expect(
      parseCdiSpec(
        '{"cdiVersion":"0.6.0","kind":"v.com/c","devices":[{"name":"d","containerEdits":{"deviceNodes":[{"path":"dev/x"}]}}]}',
      ),
    ).rejects.toThrow('spec.devices.0.containerEdits.deviceNodes.0.path: expected an absolute path');
    await expect(
      parseCdiSpec(
        '{"cdiVersion":"0.6.0","kind":"v.com/c","devices":[{"name":"d","containerEdits":{"hooks":[{"hookName":"later","path":"/x"}]}}]}',
      ),
    ).rejects.toThrow('spec.devices.0.containerEdits.hooks.0.hookName');
  });
});

describe('requestedCdiDevices', () => {
  it('takes CDI_devices, then cdi.k8s.io/ annotations, each once', () => {
    const config = containerConfig({
      CDI_devices: [{ name: 'v.com/c=a' }],
      annotations: { 'cdi.k8s.io/x': 'v.com/c=b, v.com/c=a', other: 'v.com/c=z' },
    });
    expect(requestedCdiDevices(config)).toEqual(['v.com/c=a', 'v.com/c=b']);
  });

  it('refuses an annotation that names no device', () => {
    expect(() => requestedCdiDevices(containerConfig({ annotations: { 'cdi.k8s.io/x': 'gpu0' } }))).toThrow(
      /cdi\.k8s\.io\/x: "gpu0" is not a qualified CDI device name/,
    );
  });
});

describe('CdiRegistry', () => {
  it('resolves devices; a later directory wins, the spec-wide edits come first', async () => {
    const low = specDir({
      'a.json': spec('v.com/c', [
        { name: 'd0', env: ['FROM=low'] },
        { name: 'd1', env: ['ONLY=low'] },
      ]),
    });
    const high = specDir({
      'b.yaml': `cdiVersion: 0.6.0\nkind: v.com/c\ncontainerEdits: {env: [COMMON=1]}\ndevices: [{name: d0, containerEdits: {env: [FROM=high]}}]\n`,
    });
    const registry = new CdiRegistry(silentLogger);
    expect(await registry.resolve([low, high], ['v.com/c=d0', 'v.com/c=d1'])).toEqual([
      { name: 'v.com/c=d0', edits: [{ env: ['COMMON=1'] }, { env: ['FROM=high'] }] },
      { name: 'v.com/c=d1', edits: [{ env: ['ONLY=low'] }] },
    ]);
  });

  it('names an unknown device, and refuses one two files of the same directory define', async () => {
    const dir = specDir({
      'a.json': spec('v.com/c', [{ name: 'd0', env: [] }]),
      'b.json': spec('v.com/c', [{ name: 'd0', env: [] }]),
    });
    const registry = new CdiRegistry(silentLogger);
    await expect(registry.resolve([dir], ['v.com/c=nope'])).rejects.toMatchObject({
      kind: 'InvalidArgument',
      message: expect.stringContaining('unknown CDI device "v.com/c=nope"'),
    });
    await expect(registry.resolve([dir], ['v.com/c=d0'])).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringMatching(/a\.json and .*b\.json/),
    });
  });

  it('sees a spec file that is added, changed or removed after the first lookup; skips one that does not parse', async () => {
    const dir = specDir({ 'bad.json': '{' });
    const registry = new CdiRegistry(silentLogger);
    await expect(registry.resolve([dir], ['v.com/c=d0'])).rejects.toMatchObject({ kind: 'InvalidArgument' });
    fs.writeFileSync(path.join(dir, 'a.json'), spec('v.com/c', [{ name: 'd0', env: ['V=1'] }]));
    expect((await registry.resolve([dir], ['v.com/c=d0']))[0]!.edits).toEqual([{ env: ['V=1'] }]);
    fs.writeFileSync(path.join(dir, 'a.json'), spec('v.com/c', [{ name: 'd0', env: ['V=22'] }]));
    expect((await registry.resolve([dir], ['v.com/c=d0']))[0]!.edits).toEqual([{ env: ['V=22'] }]);
    fs.rmSync(path.join(dir, 'a.json'));
    await expect(registry.resolve([dir], ['v.com/c=d0'])).rejects.toMatchObject({ kind: 'InvalidArgument' });
  });
});

describe('applyCdiDevices', () => {
  it('adds a device node from the host with its cgroup rule, a mount, env, a hook and groups', async () => {
    const spec = await applyCdiDevices(baseSpec(), [
      {
        name: 'v.com/c=d0',
        edits: [
          {
            env: ['A=2', 'B=3'],
            deviceNodes: [{ path: '/dev/cdi-null', hostPath: '/dev/null', permissions: 'rw' }],
            mounts: [{ hostPath: '/srv', containerPath: '/data' }],
            hooks: [{ hookName: 'createContainer', path: '/bin/true', args: ['true'] }],
            additionalGids: [44],
          },
        ],
      },
    ]);
    expect(spec.process.env).toEqual(['PATH=/bin', 'A=2', 'B=3']);
    expect(spec.linux.devices).toEqual([{ path: '/dev/cdi-null', type: 'c', major: 1, minor: 3, fileMode: 0o666 }]);
    expect(spec.linux.resources.devices.at(-1)).toEqual({ allow: true, type: 'c', major: 1, minor: 3, access: 'rw' });
    expect(spec.mounts.map((m) => m.destination)).toEqual(['/proc', '/dev', '/data', '/data/sub']);
    expect(spec.mounts[2]).toEqual({ destination: '/data', type: 'bind', source: '/srv', options: ['bind'] });
    expect(spec.hooks).toEqual({ createContainer: [{ path: '/bin/true', args: ['true'] }] });
    expect(spec.process.user.additionalGids).toEqual([44]);
  });

  it('fails naming the device when a node is not a device on this host', async () => {
    await expect(
      applyCdiDevices(baseSpec(), [
        { name: 'v.com/c=d0', edits: [{ deviceNodes: [{ path: '/dev/x', hostPath: '/etc/hostname' }] }] },
      ]),
    ).rejects.toThrow('CDI device "v.com/c=d0": device node /etc/hostname is not a device node on this host');
  });
});
