import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryHosts } from './hosts-config.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crid-hosts-'));
  await mkdir(join(dir, 'docker.io'));
  await writeFile(
    join(dir, 'docker.io', 'hosts.toml'),
    `
server = "https://registry-1.docker.io"
[host."http://10.0.0.1:5000"]
  capabilities = ["pull"]
[host."https://mirror.example/custom"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
  ca = "mirror-ca.pem"
  override_path = true
`,
  );
  await mkdir(join(dir, 'reg.example_5000_'));
  await writeFile(join(dir, 'reg.example_5000_', 'hosts.toml'), 'server = "http://reg.example:5000"\n');
  await mkdir(join(dir, '_default'));
  await writeFile(join(dir, '_default', 'hosts.toml'), '[host."http://127.0.0.1:9999"]\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('registryHosts', () => {
  it('lists mirrors in file order, then the server', async () => {
    const hosts = await registryHosts(dir, 'docker.io');
    expect(hosts.map((h) => `${h.scheme}://${h.host}${h.path}`)).toEqual([
      'http://10.0.0.1:5000/v2',
      'https://mirror.example/custom',
      'https://registry-1.docker.io/v2',
    ]);
    expect(hosts[0]!.capabilities).toEqual(['pull']);
    expect(hosts[1]!.skipVerify).toBe(true);
    expect(hosts[1]!.ca).toEqual([join(dir, 'docker.io', 'mirror-ca.pem')]);
    expect(hosts[2]!.capabilities).toEqual(['pull', 'resolve', 'push']);
  });

  it('finds host_port_ directories', async () => {
    const hosts = await registryHosts(dir, 'reg.example:5000');
    expect(hosts).toHaveLength(1);
    expect(hosts[0]).toMatchObject({ scheme: 'http', host: 'reg.example:5000', path: '/v2' });
  });

  it('falls back to _default, whose server is the domain itself', async () => {
    const hosts = await registryHosts(dir, 'quay.io');
    expect(hosts.map((h) => `${h.scheme}://${h.host}`)).toEqual(['http://127.0.0.1:9999', 'https://quay.io']);
  });

  it('uses the domain (registry-1 for docker.io, http on loopback) with no configuration', async () => {
    expect((await registryHosts('', 'docker.io'))[0]).toMatchObject({ scheme: 'https', host: 'registry-1.docker.io' });
    expect((await registryHosts('', '127.0.0.1:5000'))[0]).toMatchObject({ scheme: 'http', host: '127.0.0.1:5000' });
    expect((await registryHosts(join(dir, 'missing'), 'gcr.io'))[0]).toMatchObject({ scheme: 'https', host: 'gcr.io' });
  });
});

describe('registryHosts: TLS client certificates and inline settings', () => {
  it("reads hosts.toml's client certificates, a pair or one PEM", async () => {
    const root = await mkdtemp(join(tmpdir(), 'crid-hosts-client-'));
    await mkdir(join(root, 'reg.example'));
    await writeFile(
      join(root, 'reg.example', 'hosts.toml'),
      'server = "https://reg.example"\nclient = [["client.crt", "client.key"], ["/etc/both.pem", ""]]\n',
    );
    const [server] = await registryHosts(root, 'reg.example');
    expect(server!.client).toEqual([
      { cert: join(root, 'reg.example', 'client.crt'), key: join(root, 'reg.example', 'client.key') },
      { cert: '/etc/both.pem', key: '' },
    ]);
    await rm(root, { recursive: true, force: true });
  });

  it('gives an endpoint host its registry.configs TLS files and credentials', async () => {
    const tls = {
      ca_file: '/etc/ca.pem',
      cert_file: '/etc/c.crt',
      key_file: '/etc/c.key',
      insecure_skip_verify: false,
    };
    const hosts = await registryHosts('', 'docker.io', {
      mirrors: { 'docker.io': ['mirror.example:5000/base'] },
      configs: { 'mirror.example:5000': { tls, auth: { username: 'u', password: 'p', auth: '', identitytoken: '' } } },
    });
    expect(hosts.map((h) => `${h.scheme}://${h.host}${h.path}`)).toEqual([
      'https://mirror.example:5000/base',
      'https://registry-1.docker.io/v2',
    ]);
    expect(hosts[0]).toMatchObject({
      ca: ['/etc/ca.pem'],
      client: [{ cert: '/etc/c.crt', key: '/etc/c.key' }],
      credentials: { username: 'u', password: 'p' },
    });
    expect(hosts[1]!.credentials).toBeUndefined();
  });
});
