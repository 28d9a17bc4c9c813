import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isKind } from '../errors.ts';
import { silentLogger } from '../log.ts';
import { cachePath } from './cni-cache.ts';
import type { CniNetworkList } from './cni-config.ts';
import { addNetworkList, delNetworkList, type CniAttachment, type CniRunOptions } from './cni.ts';

// A plugin that records its stdin and CNI_* environment, then answers with a result naming itself.
const RECORDER = `#!/bin/sh
type=$(basename "$0")
n=$(ls "$CNI_TEST_LOG" | wc -l)
cat > "$CNI_TEST_LOG/$n-$CNI_COMMAND-$type.stdin"
env | grep '^CNI_' | grep -v CNI_TEST_LOG | sort > "$CNI_TEST_LOG/$n-$CNI_COMMAND-$type.env"
if [ "$CNI_COMMAND" = ADD ]; then
  printf '{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"x"}],"ips":[{"address":"10.0.0.2/24","interface":0}],"dns":{"nameservers":["%s"]}}' "$type"
fi
`;
const FAILER = `#!/bin/sh
cat >/dev/null
echo '{"cniVersion":"1.0.0","code":11,"msg":"no luck","details":"disk on fire"}'
exit 1
`;
const SLEEPER = `#!/bin/sh
exec sleep 30
`;

let dir: string;
let bin: string;
let log: string;
let opts: CniRunOptions;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crid-cni-'));
  bin = join(dir, 'bin');
  await mkdir(bin);
  for (const [name, body] of [
    ['rec-a', RECORDER],
    ['rec-b', RECORDER],
    ['failer', FAILER],
    ['sleeper', SLEEPER],
  ] as const) {
    await writeFile(join(bin, name), body);
    await chmod(join(bin, name), 0o755);
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  log = await mkdtemp(join(dir, 'log-'));
  process.env.CNI_TEST_LOG = log;
  opts = {
    binDirs: [join(dir, 'empty'), bin],
    cacheDir: await mkdtemp(join(dir, 'cache-')),
    timeoutMs: 10_000,
    log: silentLogger,
  };
});

const network = (...types: string[]): CniNetworkList => ({
  name: 'testnet',
  cniVersion: '1.0.0',
  file: '',
  plugins: types.map((type, i) => (i === 1 ? { type, capabilities: { portMappings: true } } : { type, extra: i })),
});

const att: CniAttachment = {
  containerId: 'pod1',
  netnsPath: '/run/netns/whatever',
  ifName: 'eth0',
  cniArgs: [
    ['IgnoreUnknown', '1'],
    ['K8S_POD_NAME', 'p'],
  ],
  capabilityArgs: {
    portMappings: [{ hostPort: 80, containerPort: 8080, protocol: 'tcp' }],
    bandwidth: { ingressRate: 1 },
  },
};

async function recorded(): Promise<{ file: string; stdin: Record<string, unknown>; env: string }[]> {
  const files = (await readdir(log))
    .filter((f) => f.endsWith('.stdin'))
    .sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
  return Promise.all(
    files.map(async (f) => ({
      file: f.replace(/^\d+-/, '').replace('.stdin', ''),
      stdin: JSON.parse(await readFile(join(log, f), 'utf8')) as Record<string, unknown>,
      env: await readFile(join(log, f.replace('.stdin', '.env')), 'utf8'),
    })),
  );
}

describe('addNetworkList / delNetworkList', () => {
  it('chains ADD results, injects only declared capabilities, sets the CNI environment, caches the result', async () => {
    const result = await addNetworkList(network('rec-a', 'rec-b'), att, opts);
    expect(result.dns).toEqual({ nameservers: ['rec-b'] });

    const [a, b] = await recorded();
    expect(a?.file).toBe('ADD-rec-a');
    expect(a?.stdin).toEqual({ type: 'rec-a', extra: 0, name: 'testnet', cniVersion: '1.0.0' });
    expect(b?.file).toBe('ADD-rec-b');
    expect(b?.stdin.prevResult).toMatchObject({ dns: { nameservers: ['rec-a'] } });
    expect(b?.stdin.runtimeConfig).toEqual({ portMappings: att.capabilityArgs.portMappings });
    expect(a?.env.split('\n')).toEqual(
      expect.arrayContaining([
        'CNI_COMMAND=ADD',
        'CNI_CONTAINERID=pod1',
        'CNI_NETNS=/run/netns/whatever',
        'CNI_IFNAME=eth0',
        'CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAME=p',
        `CNI_PATH=${join(dir, 'empty')}:${bin}`,
      ]),
    );

    const cache = JSON.parse(await readFile(cachePath(opts.cacheDir, 'testnet', 'pod1', 'eth0'), 'utf8'));
    expect(cache).toMatchObject({
      kind: 'cniCacheV1',
      containerId: 'pod1',
      ifName: 'eth0',
      networkName: 'testnet',
      result,
    });
  });

  it('DEL runs in reverse with the cached config and prevResult, then drops the cache', async () => {
    await addNetworkList(network('rec-a', 'rec-b'), att, opts);
    // The conf dir changed since ADD: DEL still uses what ADD used.
    await delNetworkList(network('rec-b'), { ...att, capabilityArgs: {} }, opts);

    const dels = (await recorded()).filter((r) => r.file.startsWith('DEL'));
    expect(dels.map((d) => d.file)).toEqual(['DEL-rec-b', 'DEL-rec-a']);
    expect(dels[0]?.stdin.prevResult).toMatchObject({ dns: { nameservers: ['rec-b'] } });
    expect(dels[0]?.stdin.runtimeConfig).toEqual({ portMappings: att.capabilityArgs.portMappings });
    await expect(readFile(cachePath(opts.cacheDir, 'testnet', 'pod1', 'eth0'))).rejects.toThrow('ENOENT');
  });

  it('DEL without a cache uses the given network and no prevResult', async () => {
    await delNetworkList(network('rec-a'), { ...att, netnsPath: '' }, opts);
    const [del] = await recorded();
    expect(del?.stdin).toEqual({ type: 'rec-a', extra: 0, name: 'testnet', cniVersion: '1.0.0' });
    expect(del?.env).toContain('CNI_NETNS=\n');
  });

  it('DEL goes on past a failing plugin and then throws its error', async () => {
    const err = await delNetworkList(network('rec-a', 'failer'), att, opts).catch((e: unknown) => e);
    expect((err as Error).message).toContain('CNI plugin type="failer" name="testnet" failed (del)');
    expect((await recorded()).map((r) => r.file)).toEqual(['DEL-rec-a']);
  });

  it('a plugin error names the plugin and carries its code, msg and details; nothing is cached', async () => {
    const err = await addNetworkList(network('rec-a', 'failer'), att, opts).catch((e: unknown) => e);
    expect(isKind(err, 'Internal')).toBe(true);
    expect((err as Error).message).toBe(
      'CNI plugin type="failer" name="testnet" failed (add): code 11: no luck (disk on fire)',
    );
    await expect(readdir(join(opts.cacheDir, 'results'))).rejects.toThrow('ENOENT');
  });

  it('a plugin that does not answer in time is killed and reported as DeadlineExceeded', async () => {
    const err = await addNetworkList(network('sleeper'), att, { ...opts, timeoutMs: 200 }).catch((e: unknown) => e);
    expect(isKind(err, 'DeadlineExceeded')).toBe(true);
    expect((err as Error).message).toContain('CNI plugin type="sleeper"');
  });

  it('a plugin missing from every bin dir is a FailedPrecondition naming it and the path', async () => {
    const err = await addNetworkList(network('nope'), att, opts).catch((e: unknown) => e);
    expect(isKind(err, 'FailedPrecondition')).toBe(true);
    expect((err as Error).message).toBe(`failed to find CNI plugin "nope" in path [${join(dir, 'empty')} ${bin}]`);
  });
});
