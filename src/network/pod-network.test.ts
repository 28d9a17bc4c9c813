import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CniConfig, RuntimeHandler } from '../config/model.ts';
import { silentLogger } from '../log.ts';
import { cniSettingsFor, setupPodNetwork, toCniPortMappings, type CniSettings } from './pod-network.ts';

// Records stdin and CNI_ARGS per call; answers ADD with a pod address.
const RECORDER = `#!/bin/sh
n=$(ls "$CNI_TEST_LOG" | wc -l)
cat > "$CNI_TEST_LOG/$n-$CNI_COMMAND-$(basename "$0").json"
echo "$CNI_ARGS" > "$CNI_TEST_LOG/$n-$CNI_COMMAND-$(basename "$0").args"
[ "$CNI_COMMAND" = ADD ] && echo '{"cniVersion":"1.0.0","ips":[{"address":"fd00::7/64"},{"address":"10.7.0.7/16"}]}'
exit 0
`;

let dir: string;
let log: string;
let settings: CniSettings;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crid-podnet-'));
  await mkdir(join(dir, 'bin'));
  await writeFile(join(dir, 'bin', 'recorder'), RECORDER);
  await writeFile(join(dir, 'bin', 'failer'), '#!/bin/sh\necho \'{"code":1,"msg":"nope"}\'\nexit 1\n');
  await chmod(join(dir, 'bin', 'recorder'), 0o755);
  await chmod(join(dir, 'bin', 'failer'), 0o755);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  log = await mkdtemp(join(dir, 'log-'));
  process.env.CNI_TEST_LOG = log;
  const confDir = await mkdtemp(join(dir, 'conf-'));
  settings = {
    binDirs: [join(dir, 'bin')],
    confDir,
    maxConfNum: 1,
    cacheDir: await mkdtemp(join(dir, 'cache-')),
    timeoutMs: 10_000,
  };
});

async function writeNetwork(...plugins: object[]): Promise<void> {
  await writeFile(
    join(settings.confDir, '10-net.conflist'),
    JSON.stringify({ cniVersion: '1.0.0', name: 'net', plugins }),
  );
}

const pod = { podId: 'p1', netnsPath: '/run/netns/x', podName: 'web', podNamespace: 'ns', podUid: 'u1' };
const allCaps = { portMappings: true, dns: true, bandwidth: true, 'io.kubernetes.cri.pod-annotations': true };

describe('setupPodNetwork', () => {
  it('passes the kubelet CNI_ARGS and the pod capabilities, and returns IPv4 first', async () => {
    await writeNetwork({ type: 'recorder', capabilities: allCaps });
    const setup = await setupPodNetwork(
      settings,
      {
        ...pod,
        portMappings: [
          { protocol: 'UDP', container_port: 53, host_port: 5353, host_ip: '127.0.0.1' },
          { protocol: 'TCP', container_port: 80, host_port: 0, host_ip: '' },
        ],
        dns: { servers: ['10.0.0.10'], searches: ['svc.local'], options: ['ndots:5'] },
        annotations: { 'kubernetes.io/ingress-bandwidth': '1M' },
      },
      silentLogger,
    );
    expect(setup.ips).toEqual(['10.7.0.7', 'fd00::7']);

    const stdin = JSON.parse(await readFile(join(log, '0-ADD-recorder.json'), 'utf8'));
    expect(stdin.runtimeConfig).toEqual({
      portMappings: [{ hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' }],
      dns: { servers: ['10.0.0.10'], searches: ['svc.local'], options: ['ndots:5'] },
      bandwidth: { ingressRate: 1_000_000, ingressBurst: 4_294_967_295 },
      'io.kubernetes.cri.pod-annotations': { 'kubernetes.io/ingress-bandwidth': '1M' },
    });
    expect((await readFile(join(log, '0-ADD-recorder.args'), 'utf8')).trim()).toBe(
      'IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=p1;K8S_POD_UID=u1',
    );
  });

  it('undoes a half-done ADD with DEL before throwing', async () => {
    await writeNetwork({ type: 'recorder' }, { type: 'failer' });
    await expect(setupPodNetwork(settings, pod, silentLogger)).rejects.toThrow(
      'failed to set up network for sandbox p1: CNI plugin type="failer" name="net" failed (add): code 1: nope',
    );
    const calls = (await readdir(log)).filter((f) => f.endsWith('.json')).sort();
    expect(calls.map((f) => f.replace(/^\d+-/, ''))).toEqual(['ADD-recorder.json', 'DEL-recorder.json']);
  });

  it('fails before running anything when there is no network config', async () => {
    await expect(setupPodNetwork(settings, pod, silentLogger)).rejects.toThrow('no network config found in');
    expect(await readdir(log)).toEqual([]);
  });
});

describe('cniSettingsFor', () => {
  const cni: CniConfig = { bin_dirs: ['/opt/cni/bin'], conf_dir: '/etc/cni/net.d', max_conf_num: 1 };
  it("uses the handler's cni_conf_dir and cni_max_conf_num when set, the global ones otherwise", () => {
    const handler = { cni_conf_dir: '/etc/kata/net.d', cni_max_conf_num: 0 } as RuntimeHandler;
    expect(cniSettingsFor(cni, handler)).toMatchObject({
      confDir: '/etc/kata/net.d',
      maxConfNum: 0,
      binDirs: ['/opt/cni/bin'],
    });
    expect(cniSettingsFor(cni, { ...handler, cni_conf_dir: '' })).toMatchObject({
      confDir: '/etc/cni/net.d',
      maxConfNum: 1,
    });
    expect(cniSettingsFor(cni)).toMatchObject({ confDir: '/etc/cni/net.d', cacheDir: '/var/lib/cni' });
  });
});

describe('toCniPortMappings', () => {
  it('drops mappings without a host port', () => {
    expect(toCniPortMappings([{ protocol: 'SCTP', container_port: 9, host_port: 0, host_ip: '' }])).toEqual([]);
  });
});
