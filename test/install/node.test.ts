// The node admin's path end to end, on this machine's real paths: `scripts/install --enable` into the
// default prefix (a fake systemctl records what it is asked), crid started exactly as the installed
// unit's ExecStart with a fake NOTIFY_SOCKET, a pause image loaded with `crid images import`, the real
// crictl running a host-network pod on /run/crid/crid.sock, and `scripts/uninstall --purge`. No file
// is edited by hand in between.
//
// It uses the default socket, /run/crid and /var/lib/crid, so it refuses to run on a node where crid
// is installed or its directories exist (a real crid, or this test running elsewhere): creating
// /run/crid first is its lock. Everything it made is removed afterwards; a /etc/crid it found stays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { CRI_DEFAULTS } from '../../src/config/defaults.ts';
import { REPO, startCrid, waitForSocket } from '../helpers/crid-process.ts';
import { pauseArchive } from '../helpers/image-builder.ts';
import { FakeSystemd } from '../systemd/fake-systemd.ts';
import { readUnit } from '../systemd/unit-file.ts';

const INSTALL_TIMEOUT_MS = 300_000;
const PREFIX = '/usr/local/lib/crid';
const LINK = '/usr/local/bin/crid';
const UNIT = '/etc/systemd/system/crid.service';
const CONFIG_DIR = '/etc/crid';
const STATE = '/run/crid';
const ROOT = '/var/lib/crid';
const SOCKET = `${STATE}/crid.sock`;
const ENDPOINT = `unix://${SOCKET}`;

// Records each call; `is-active` answers "inactive" (3), as for a service never started.
const FAKE_SYSTEMCTL = `#!/bin/sh
echo "$*" >> "$(dirname "$0")/systemctl.log"
[ "$1" = is-active ] && exit 3
exit 0
`;

describe('a node: install --enable, crid as its unit runs it, crictl runp, restart, uninstall --purge', () => {
  let work: string;
  let env: NodeJS.ProcessEnv;
  let ownsConfigDir = false;
  let locked = false;
  let systemd: FakeSystemd | undefined;
  let crid: ChildProcess | undefined;
  let cridStderr = '';
  let crictlBin: string;
  let podId: string | undefined;
  let starts = 0;

  const crictl = (...args: string[]) =>
    execa(crictlBin, ['--runtime-endpoint', ENDPOINT, '--image-endpoint', ENDPOINT, '--timeout', '60s', ...args], {
      env,
      timeout: 120_000,
    });
  const systemctlCalls = () => fs.readFileSync(path.join(work, 'bin/systemctl.log'), 'utf8').trim().split('\n');

  beforeAll(async () => {
    // The lock: fails when another crid (or another run of this test) has /run/crid.
    try {
      fs.mkdirSync(STATE, { mode: 0o711 });
    } catch (err) {
      throw new Error(
        `${STATE} exists: a crid runs on this node (or this test runs elsewhere); this test needs the node's default paths to itself (${(err as Error).message})`,
      );
    }
    locked = true;
    const present = [PREFIX, LINK, UNIT, ROOT].filter((p) => fs.existsSync(p));
    if (present.length > 0)
      throw new Error(`crid is installed on this node (${present.join(', ')}): this test would disturb it`);
    ownsConfigDir = !fs.existsSync(CONFIG_DIR);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-node-'));
    fs.mkdirSync(path.join(work, 'bin'));
    fs.writeFileSync(path.join(work, 'bin/systemctl'), FAKE_SYSTEMCTL, { mode: 0o755 });
    env = { ...process.env, PATH: `${path.join(work, 'bin')}:${process.env.PATH}` };
    crictlBin = path.join((await execa(path.join(REPO, 'scripts/build-cri-tools'))).stdout.trim(), 'crictl');
  }, INSTALL_TIMEOUT_MS);

  afterAll(async () => {
    // A pod a failed step left: removed through a crid, as an admin would (its mounts and shim with it).
    if (podId !== undefined) {
      const running = crid !== undefined && crid.exitCode === null && crid.signalCode === null;
      const cleaner = running ? undefined : startCrid(`${CONFIG_DIR}/crid.toml`, SOCKET);
      if (cleaner) await waitForSocket(cleaner).catch(() => undefined);
      await crictl('rmp', '--force', podId).catch(() => undefined);
      await cleaner?.stop();
    }
    crid?.kill('SIGKILL');
    systemd?.stop();
    if (!locked) return;
    await execa(path.join(REPO, 'scripts/uninstall'), { env, reject: false });
    for (const p of [ROOT, STATE, ...(ownsConfigDir ? [CONFIG_DIR] : [])])
      fs.rmSync(p, { recursive: true, force: true });
    if (work) fs.rmSync(work, { recursive: true, force: true });
  }, INSTALL_TIMEOUT_MS);

  it(
    'scripts/install --enable: the unit is installed and systemd is asked to reload, enable and start it',
    async () => {
      await execa(path.join(REPO, 'scripts/install'), ['--enable', '--offline'], { env, timeout: INSTALL_TIMEOUT_MS });
      expect(fs.readlinkSync(LINK)).toBe(`${PREFIX}/scripts/crid`);
      expect(fs.readFileSync(UNIT, 'utf8')).toBe(fs.readFileSync(path.join(REPO, 'config/crid.service'), 'utf8'));
      if (ownsConfigDir) expect(fs.readdirSync(CONFIG_DIR)).toEqual(['crid.toml']);
      expect(systemctlCalls()).toEqual(['daemon-reload', 'enable crid', 'is-active --quiet crid', 'start crid']);
    },
    INSTALL_TIMEOUT_MS,
  );

  /** crid as systemd starts the installed unit: its ExecStart, with NOTIFY_SOCKET; resolves with READY=1's message. */
  async function startAsUnit(): Promise<string> {
    const unit = readUnit(UNIT);
    expect(unit.get('Service', 'Type')).toBe('notify');
    const [command, ...args] = unit.get('Service', 'ExecStart')!.split(' ');
    const notifySocket = path.join(work, `notify-${starts++}.sock`);
    systemd?.stop();
    systemd = new FakeSystemd(notifySocket);
    await systemd.next((m) => m === 'listening');
    cridStderr = '';
    crid = spawn(command!, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...env, NOTIFY_SOCKET: notifySocket } });
    crid.stderr!.on('data', (chunk) => (cridStderr += chunk));
    const exited = new Promise<never>((_, reject) =>
      crid!.once('exit', (code) => reject(new Error(`crid exited with ${code}: ${cridStderr}`))),
    );
    return Promise.race([systemd.next((m) => m.includes('READY=1')), exited]);
  }

  /** SIGTERM, as `systemctl stop` sends with KillMode=process: STOPPING=1, exit 0. */
  async function stopUnit(): Promise<void> {
    const exited = new Promise((resolve) => crid!.once('exit', resolve));
    crid!.kill('SIGTERM');
    expect(await systemd!.next((m) => m.includes('STOPPING=1'))).toMatch(/^STOPPING=1 /);
    expect(await exited).toBe(0);
  }

  const pods = () =>
    crictl('pods', '-o', 'json').then(
      (r) => (JSON.parse(r.stdout) as { items: Array<{ id: string; state: string }> }).items,
    );
  const purge = () => execa(path.join(REPO, 'scripts/uninstall'), ['--purge'], { env, reject: false });

  it("crid started as the unit's ExecStart sends READY=1 once recovered, and then serves", async () => {
    expect(await startAsUnit()).toMatch(
      new RegExp(`^READY=1 STATUS=serving CRI on ${SOCKET}: 0 pods, 0 containers; handlers: .*runc ok`),
    );
    // crid answers Status (crictl info) with Unavailable until its recovery is done: READY=1 before that would fail here.
    expect(JSON.parse((await crictl('info')).stdout).status.conditions).toContainEqual(
      expect.objectContaining({ type: 'RuntimeReady' }),
    );
    expect(await pods()).toEqual([]);
    expect((await crictl('version')).stdout).toContain('RuntimeName:  crid');
    // V8's code for crid's modules, kept for the next start
    expect(fs.readdirSync(path.join(PREFIX, 'compile-cache'), { recursive: true }).length).toBeGreaterThan(0);
  });

  it('crid images import loads the sandbox image (offline) under its default name', async () => {
    const archive = path.join(work, 'pause.tar');
    fs.writeFileSync(archive, await pauseArchive(CRI_DEFAULTS.sandbox_image));
    const imported = await execa(LINK, ['images', 'import', archive], { env });
    expect(imported.stdout).toMatch(new RegExp(`^imported ${CRI_DEFAULTS.sandbox_image} sha256:[a-f0-9]{64}$`));
    const images = JSON.parse((await crictl('images', '-o', 'json')).stdout) as {
      images: Array<{ repoTags: string[]; pinned: boolean }>;
    };
    expect(images.images).toEqual([expect.objectContaining({ repoTags: [CRI_DEFAULTS.sandbox_image], pinned: true })]);
  });

  it('crictl runp runs a host-network pod that `crictl pods` shows Ready', async () => {
    const podJson = path.join(work, 'pod.json');
    fs.writeFileSync(
      podJson,
      JSON.stringify({
        metadata: { name: 'node-e2e', namespace: 'default', uid: 'node-e2e-uid', attempt: 0 },
        log_directory: path.join(work, 'logs'),
        linux: { security_context: { namespace_options: { network: 2 } } },
      }),
    );
    podId = (await crictl('runp', podJson)).stdout.trim();
    expect(podId).toMatch(/^[a-f0-9]{64}$/);
    expect((await pods()).map((p) => [p.id, p.state])).toEqual([[podId, 'SANDBOX_READY']]);
  });

  it('a stopped crid leaves the pod running, and uninstall --purge refuses to remove its data', async () => {
    await stopUnit();
    const refused = await purge();
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/something is mounted beneath \/(run|var\/lib)\/crid .*nothing removed/);
    expect(fs.existsSync(PREFIX)).toBe(true);
  });

  it('crid started again recovers the pod before READY=1; stopp and rmp remove it', async () => {
    expect(await startAsUnit()).toMatch(new RegExp(`^READY=1 STATUS=serving CRI on ${SOCKET}: 1 pods, 0 containers;`));
    expect((await pods()).map((p) => [p.id, p.state])).toEqual([[podId, 'SANDBOX_READY']]);
    await crictl('stopp', podId!);
    expect((await pods()).map((p) => [p.id, p.state])).toEqual([[podId, 'SANDBOX_NOTREADY']]);
    await crictl('rmp', podId!);
    expect(await pods()).toEqual([]);
    podId = undefined;
  });

  it('uninstall --purge refuses while crid serves; once it stopped, leaves only the config', async () => {
    const serving = await purge();
    expect(serving.exitCode).toBe(1);
    expect(serving.stderr).toContain(
      `crid is serving on ${SOCKET}: stop it first (or pass --disable); nothing removed`,
    );
    await stopUnit();
    expect(fs.readdirSync(ROOT).length).toBeGreaterThan(0);
    const purged = await purge();
    expect(purged.exitCode).toBe(0);
    expect([PREFIX, LINK, UNIT, ROOT, STATE].filter((p) => fs.existsSync(p))).toEqual([]);
    expect(fs.readdirSync(CONFIG_DIR)).toContain('crid.toml');
    if (ownsConfigDir) expect(fs.readdirSync(CONFIG_DIR)).toEqual(['crid.toml']);
  });
});
