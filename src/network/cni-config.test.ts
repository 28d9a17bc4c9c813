import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadNetworks, loadPodNetworks, parseNetworkConfig } from './cni-config.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crid-cniconf-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const conflist = (name: string) =>
  JSON.stringify({
    cniVersion: '1.0.0',
    name,
    plugins: [{ type: 'bridge' }, { type: 'portmap', capabilities: { portMappings: true } }],
  });

describe('parseNetworkConfig', () => {
  it('wraps a single-plugin .conf as a one-plugin list with its name and version', () => {
    const net = parseNetworkConfig(
      JSON.stringify({ cniVersion: '0.4.0', name: 'n', type: 'bridge', bridge: 'b0' }),
      '/x/10-n.conf',
    );
    expect(net.name).toBe('n');
    expect(net.cniVersion).toBe('0.4.0');
    expect(net.plugins).toEqual([{ cniVersion: '0.4.0', name: 'n', type: 'bridge', bridge: 'b0' }]);
  });

  it('names what is missing', () => {
    expect(() => parseNetworkConfig('{"cniVersion":"1.0.0","name":"n","plugins":[]}', 'a.conflist')).toThrow(
      'no "plugins"',
    );
    expect(() => parseNetworkConfig('{"name":"n","plugins":[{"x":1}]}', 'a.conflist')).toThrow(
      'plugins[0]: plugin has no "type"',
    );
    expect(() => parseNetworkConfig('{"type":"bridge"}', 'a.conf')).toThrow('no "name"');
    expect(() => parseNetworkConfig('{', 'a.json')).toThrow('invalid JSON');
  });
});

describe('loadNetworks', () => {
  it('takes files in name order, skips invalid ones and other extensions, honours max_conf_num', async () => {
    await writeFile(join(dir, '05-broken.conflist'), '{ not json');
    await writeFile(join(dir, '10-b.conflist'), conflist('b'));
    await writeFile(join(dir, '20-a.conf'), JSON.stringify({ cniVersion: '1.0.0', name: 'a', type: 'ptp' }));
    await writeFile(join(dir, '30-c.json'), JSON.stringify({ cniVersion: '1.0.0', name: 'c', type: 'macvlan' }));
    await writeFile(join(dir, '00-ignored.txt'), conflist('ignored'));

    const one = await loadNetworks(dir, 1);
    expect(one.networks.map((n) => n.name)).toEqual(['b']);
    expect(one.skipped).toEqual([
      { file: join(dir, '05-broken.conflist'), reason: expect.stringContaining('invalid JSON') },
    ]);

    const all = await loadNetworks(dir, 0);
    expect(all.networks.map((n) => n.name)).toEqual(['b', 'a', 'c']);
  });

  it('a missing dir has no networks; loadPodNetworks says so like containerd', async () => {
    const missing = join(dir, 'nope');
    expect((await loadNetworks(missing, 1)).networks).toEqual([]);
    await expect(loadPodNetworks(missing, 1)).rejects.toThrow(
      `cni config load failed: no network config found in ${missing}: cni plugin not initialized`,
    );
  });

  it('a dir of only invalid files reports why each was skipped', async () => {
    await writeFile(join(dir, '10-x.conf'), JSON.stringify({ name: 'x' }));
    await expect(loadPodNetworks(dir, 1)).rejects.toThrow(
      `skipped ${join(dir, '10-x.conf')}: network: plugin has no "type"`,
    );
  });
});
