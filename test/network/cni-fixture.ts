// A throw-away CNI environment for integration tests: a conf dir with a bridge + portmap network on
// a test subnet, a bin dir for fake plugins, and the host guards the machine notes ask for (a FORWARD
// rule that keeps pod traffic on the subnet, ip_forward restored). `dispose` undoes all of it.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { CniSettings } from '../../src/network/pod-network.ts';

export const SYSTEM_CNI_BIN = '/usr/lib/cni';
const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';
const PORTMAP_NAT_CHAINS = ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-SETMARK', 'CNI-HOSTPORT-MASQ'];

export interface CniFixture {
  id: string;
  dir: string;
  bridge: string;
  subnetPrefix: string;
  networkName: string;
  confDir: string;
  binDir: string;
  ipamDir: string;
  settings: CniSettings;
  /** A conf dir whose network ends with the given fake plugin after the bridge. */
  confDirWith(extraPluginType: string): Promise<string>;
  addFakePlugin(name: string, script: string): Promise<void>;
  dispose(): Promise<void>;
}

async function run(file: string, args: string[]): Promise<{ ok: boolean; stdout: string }> {
  const r = await execa(file, args, { reject: false });
  return { ok: r.exitCode === 0, stdout: r.stdout };
}

function networkConfig(name: string, bridge: string, subnetPrefix: string, ipamDir: string, extra: object[]): object {
  return {
    cniVersion: '1.0.0',
    name,
    plugins: [
      {
        type: 'bridge',
        bridge,
        isGateway: true,
        ipMasq: false,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: `${subnetPrefix}.0/24` }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: ipamDir,
        },
      },
      ...extra,
    ],
  };
}

async function natChainExists(chain: string): Promise<boolean> {
  return (await run('iptables', ['-w', '-t', 'nat', '-S', chain])).ok;
}

/** Removes the portmap plugin's top-level chains if this test run created them and no pod uses them. */
async function removePortmapChains(): Promise<void> {
  const dnat = (await run('iptables', ['-w', '-t', 'nat', '-S', 'CNI-HOSTPORT-DNAT'])).stdout.trim().split('\n');
  if (dnat.length !== 1) return;
  for (const [parent, chain] of [
    ['PREROUTING', 'CNI-HOSTPORT-DNAT'],
    ['OUTPUT', 'CNI-HOSTPORT-DNAT'],
    ['POSTROUTING', 'CNI-HOSTPORT-MASQ'],
  ] as const) {
    const rules = (await run('iptables', ['-w', '-t', 'nat', '-S', parent])).stdout.split('\n');
    for (const rule of rules.filter((r) => r.includes(`-j ${chain}`))) {
      const words = (rule.match(/"[^"]*"|\S+/g) ?? []).map((w) => w.replace(/^"(.*)"$/, '$1'));
      await run('iptables', ['-w', '-t', 'nat', '-D', ...words.slice(1)]);
    }
  }
  for (const chain of PORTMAP_NAT_CHAINS) {
    await run('iptables', ['-w', '-t', 'nat', '-F', chain]);
    await run('iptables', ['-w', '-t', 'nat', '-X', chain]);
  }
}

export async function createCniFixture(): Promise<CniFixture> {
  const id = randomBytes(3).toString('hex');
  const dir = await mkdtemp(join(tmpdir(), `crid-net-${id}-`));
  const bridge = `cridt${id}`;
  const subnetPrefix = `10.89.${randomBytes(1)[0]}`;
  const networkName = `crid-test-${id}`;
  const confDir = join(dir, 'net.d');
  const binDir = join(dir, 'bin');
  const ipamDir = join(dir, 'ipam');
  await Promise.all([mkdir(confDir), mkdir(binDir), mkdir(join(dir, 'cache'))]);

  const portmap = { type: 'portmap', capabilities: { portMappings: true } };
  await writeFile(
    join(confDir, '10-test.conflist'),
    JSON.stringify(networkConfig(networkName, bridge, subnetPrefix, ipamDir, [portmap, { type: 'loopback' }])),
  );
  // Sorts after the pod network, so with max_conf_num 1 it is never used.
  await writeFile(
    join(confDir, '99-loopback.conf'),
    JSON.stringify({ cniVersion: '1.0.0', name: 'lo-only', type: 'loopback' }),
  );

  const ipForward = (await readFile(IP_FORWARD, 'utf8')).trim();
  const portmapChainsExisted = await natChainExists('CNI-HOSTPORT-DNAT');
  const guard = [
    'FORWARD',
    '-s',
    `${subnetPrefix}.0/24`,
    '!',
    '-d',
    `${subnetPrefix}.0/24`,
    '-m',
    'comment',
    '--comment',
    networkName,
    '-j',
    'DROP',
  ];
  await execa('iptables', ['-w', '-I', ...guard]);

  return {
    id,
    dir,
    bridge,
    subnetPrefix,
    networkName,
    confDir,
    binDir,
    ipamDir,
    settings: {
      binDirs: [binDir, SYSTEM_CNI_BIN],
      confDir,
      maxConfNum: 1,
      cacheDir: join(dir, 'cache'),
      timeoutMs: 30_000,
    },
    async confDirWith(extraPluginType) {
      const other = await mkdtemp(join(dir, 'net.d-'));
      const config = networkConfig(networkName, bridge, subnetPrefix, ipamDir, [{ type: extraPluginType }]);
      await writeFile(join(other, '10-test.conflist'), JSON.stringify(config));
      return other;
    },
    async addFakePlugin(name, script) {
      await writeFile(join(binDir, name), script);
      await chmod(join(binDir, name), 0o755);
    },
    async dispose() {
      await run('ip', ['link', 'delete', bridge]);
      await run('iptables', ['-w', '-D', ...guard]);
      if (!portmapChainsExisted) await removePortmapChains();
      await writeFile(IP_FORWARD, `${ipForward}\n`);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
