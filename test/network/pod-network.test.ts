// Pod networking against the real bridge, host-local and portmap plugins (root).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { createNetns, listNetns, netnsExists, netnsMounted, removeNetns } from '../../src/network/netns.ts';
import {
  cachedPodIps,
  networkStatus,
  setupPodNetwork,
  teardownPodNetwork,
  type PodNetworkRequest,
} from '../../src/network/pod-network.ts';
import { createCniFixture, type CniFixture } from './cni-fixture.ts';

let fx: CniFixture;
const netnses: string[] = [];
const servers: ChildProcess[] = [];

beforeAll(async () => {
  fx = await createCniFixture();
});

afterEach(async () => {
  for (const server of servers.splice(0)) server.kill('SIGKILL');
  for (const netnsPath of netnses.splice(0)) {
    await teardownPodNetwork(fx.settings, podFor(netnsPath), silentLogger).catch(() => undefined);
    await removeNetns(netnsPath);
  }
});

afterAll(async () => {
  await fx?.dispose();
});

function podFor(netnsPath: string): PodNetworkRequest {
  const podId = `pod${basename(netnsPath).slice(-12)}`;
  return { podId, netnsPath, podName: `web-${podId.slice(-4)}`, podNamespace: 'default', podUid: `uid-${podId}` };
}

async function newNetns(): Promise<string> {
  const netnsPath = await createNetns();
  netnses.push(netnsPath);
  return netnsPath;
}

/** busybox httpd inside the netns serving one file. */
async function serveInNetns(netnsPath: string, port: number, body: string): Promise<void> {
  const www = await mkdtemp(join(fx.dir, 'www-'));
  await writeFile(join(www, 'index.html'), body);
  const server = spawn(
    'ip',
    ['netns', 'exec', basename(netnsPath), '/bin/busybox', 'httpd', '-f', '-p', String(port), '-h', www],
    {
      stdio: 'ignore',
    },
  );
  servers.push(server);
}

/** GETs a URL, retrying while the server is still starting. */
async function httpGet(url: string): Promise<string> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      return await res.text();
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`GET ${url} failed: ${String(lastError)}`);
}

async function ipamFiles(): Promise<string[]> {
  try {
    return await readdir(join(fx.ipamDir, fx.networkName));
  } catch {
    return [];
  }
}

async function bridgePorts(): Promise<string> {
  return (await execa('ip', ['-o', 'link', 'show', 'master', fx.bridge], { reject: false })).stdout.trim();
}

describe('netns', () => {
  it('creates a listed namespace with lo up, and removes it idempotently', async () => {
    const netnsPath = await newNetns();
    expect(await netnsExists(netnsPath)).toBe(true);
    expect(await netnsMounted(netnsPath)).toBe(true);
    expect(await listNetns()).toContain(netnsPath);
    const lo = await execa('ip', ['-n', basename(netnsPath), '-o', 'link', 'show', 'lo']);
    expect(lo.stdout).toMatch(/[<,]UP[,>]/);
    // A namespace of its own bound on the file: the file's inode is the namespace's, not crid's.
    expect((await stat(netnsPath)).ino).not.toBe((await stat('/proc/self/ns/net')).ino);
    expect(
      (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').some((l) => l.split(' ')[4] === netnsPath),
    ).toBe(true);

    await removeNetns(netnsPath);
    await removeNetns(netnsPath);
    expect(await netnsExists(netnsPath)).toBe(false);
    expect(await listNetns()).not.toContain(netnsPath);
  });
});

describe('pod network', () => {
  it('gives the pod an IP from host-local that the host reaches, then releases it on teardown', async () => {
    const netnsPath = await newNetns();
    const pod = podFor(netnsPath);
    const { ips, attachments } = await setupPodNetwork(fx.settings, pod, silentLogger);

    expect(ips).toHaveLength(1);
    expect(ips[0]).toMatch(new RegExp(`^${fx.subnetPrefix.replaceAll('.', '\\.')}\\.\\d+$`));
    expect(attachments.map((a) => [a.network, a.ifName])).toEqual([[fx.networkName, 'eth0']]);
    expect(await readFile(join(fx.ipamDir, fx.networkName, ips[0]!), 'utf8')).toContain(pod.podId);
    expect(await cachedPodIps(fx.settings.cacheDir, pod.podId)).toEqual(ips);
    const eth0 = await execa('ip', ['-n', basename(netnsPath), '-o', '-4', 'addr', 'show', 'eth0']);
    expect(eth0.stdout).toContain(`${ips[0]}/24`);

    await serveInNetns(netnsPath, 8080, 'hello from the pod\n');
    expect(await httpGet(`http://${ips[0]}:8080/index.html`)).toBe('hello from the pod\n');

    await teardownPodNetwork(fx.settings, pod, silentLogger);
    expect(await ipamFiles()).not.toContain(ips[0]);
    expect(await bridgePorts()).toBe('');
    expect(await cachedPodIps(fx.settings.cacheDir, pod.podId)).toEqual([]);
    await removeNetns(netnsPath);
    expect(await netnsExists(netnsPath)).toBe(false);
    // Twice, and with the netns gone: still fine.
    await teardownPodNetwork(fx.settings, pod, silentLogger);
  });

  it('maps a hostPort through portmap on 127.0.0.1 and on the bridge IP', async () => {
    const netnsPath = await newNetns();
    const hostPort = 20_000 + (randomBytes(2).readUInt16BE() % 20_000);
    const pod = {
      ...podFor(netnsPath),
      portMappings: [{ protocol: 'TCP' as const, container_port: 8080, host_port: hostPort, host_ip: '' }],
    };
    await setupPodNetwork(fx.settings, pod, silentLogger);
    await serveInNetns(netnsPath, 8080, 'mapped\n');

    expect(await httpGet(`http://127.0.0.1:${hostPort}/index.html`)).toBe('mapped\n');
    expect(await httpGet(`http://${fx.subnetPrefix}.1:${hostPort}/index.html`)).toBe('mapped\n');

    await teardownPodNetwork(fx.settings, pod, silentLogger);
    const nat = await execa('iptables', ['-w', '-t', 'nat', '-S']);
    expect(nat.stdout).not.toContain(`--dport ${hostPort}`);
  });

  it('a failing plugin is named in the error and leaves no IP, veth or cache behind', async () => {
    await fx.addFakePlugin(
      'crid-fail',
      '#!/bin/sh\ncat >/dev/null\necho \'{"cniVersion":"1.0.0","code":7,"msg":"refusing on purpose","details":"test"}\'\nexit 1\n',
    );
    const settings = { ...fx.settings, confDir: await fx.confDirWith('crid-fail') };
    const netnsPath = await newNetns();
    const pod = podFor(netnsPath);

    const err = await setupPodNetwork(settings, pod, silentLogger).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      `failed to set up network for sandbox ${pod.podId}: CNI plugin type="crid-fail" name="${fx.networkName}" failed (add): code 7: refusing on purpose (test)`,
    );
    expect(await ipamFiles()).toEqual(expect.not.arrayContaining([expect.stringMatching(/^10\./)]));
    expect(await bridgePorts()).toBe('');
    expect(await readdir(join(fx.settings.cacheDir, 'results')).catch(() => [])).toEqual([]);
    // RunPodSandbox then removes the netns it made.
    await removeNetns(netnsPath);
    expect(await listNetns()).not.toContain(netnsPath);
  });

  it('teardown after the netns vanished still releases the IP from the cached result', async () => {
    const netnsPath = await newNetns();
    const pod = podFor(netnsPath);
    const { ips } = await setupPodNetwork(fx.settings, pod, silentLogger);
    expect(await ipamFiles()).toContain(ips[0]);

    await removeNetns(netnsPath);
    await teardownPodNetwork(fx.settings, pod, silentLogger);
    expect(await ipamFiles()).not.toContain(ips[0]);
    // The kernel destroys an unmounted netns, and the veth end in it, asynchronously (tens of ms).
    await expect.poll(bridgePorts, { timeout: 5_000, interval: 20 }).toBe('');
    expect(await readdir(join(fx.settings.cacheDir, 'results')).catch(() => [])).toEqual([]);
  });

  it('teardown of a pod whose netns was never mounted on its file (a crash in between) succeeds and removes the file', async () => {
    const netnsPath = `/run/netns/crid-${randomBytes(6).toString('hex')}`;
    await writeFile(netnsPath, '', { flag: 'wx', mode: 0 });
    netnses.push(netnsPath);
    expect(await netnsMounted(netnsPath)).toBe(false);
    await teardownPodNetwork(fx.settings, podFor(netnsPath), silentLogger);
    await removeNetns(netnsPath);
    await expect(stat(netnsPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('teardown of a pod that never had a network or netns succeeds', async () => {
    const pod = podFor(`/run/netns/crid-${randomBytes(6).toString('hex')}`);
    await teardownPodNetwork(fx.settings, pod, silentLogger);
  });
});

describe('networkStatus', () => {
  it('is not ready without a network config, with containerd reason and message', async () => {
    const empty = join(fx.dir, 'empty-net.d');
    await mkdir(empty);
    expect(await networkStatus(empty, fx.settings.binDirs)).toEqual({
      ready: false,
      reason: 'NetworkPluginNotReady',
      message: `cni config load failed: no network config found in ${empty}: cni plugin not initialized`,
    });
  });

  it('is not ready when a plugin is not installed, ready when all are', async () => {
    const status = await networkStatus(await fx.confDirWith('crid-not-installed'), fx.settings.binDirs);
    expect(status.ready).toBe(false);
    expect(status.message).toContain('"crid-not-installed"');
    expect(await networkStatus(fx.confDir, fx.settings.binDirs)).toEqual({ ready: true, reason: '', message: '' });
  });
});
