// A real registry for tests: Debian's docker-registry on 127.0.0.1 and a free port, storage in a
// temp dir, optional htpasswd auth. Its access log is kept so tests can count requests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

export interface TestRegistry {
  /** `127.0.0.1:<port>`, usable as the domain of image references. */
  address: string;
  /** The registry's storage directory (`docker/registry/v2/...`). */
  storage: string;
  /** Request lines seen so far, e.g. `GET /v2/app/blobs/sha256:…`. */
  requests(): string[];
  stop(): Promise<void>;
}

export interface RegistryOptions {
  htpasswd?: { username: string; password: string };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitReady(address: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${log()}`);
    const res = await fetch(`http://${address}/v2/`).catch(() => undefined);
    if (res && (res.status === 200 || res.status === 401)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry on ${address} did not become ready: ${log()}`);
}

function configYaml(dir: string, address: string, auth: boolean): string {
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: false',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${address}`,
    ...(auth ? ['auth:', '  htpasswd:', '    realm: crid-test', `    path: ${join(dir, 'htpasswd')}`] : []),
    '',
  ].join('\n');
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'crid-registry-'));
  const address = `127.0.0.1:${await freePort()}`;
  if (opts.htpasswd) {
    const { stdout } = await execa('htpasswd', ['-Bbn', opts.htpasswd.username, opts.htpasswd.password]);
    await writeFile(join(dir, 'htpasswd'), `${stdout.trim()}\n`);
  }
  await writeFile(join(dir, 'config.yml'), configYaml(dir, address, opts.htpasswd !== undefined));
  const child = spawn('/usr/bin/docker-registry', ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(address, child, () => log);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    address,
    storage: join(dir, 'data'),
    requests: () => [...log.matchAll(/"(GET|HEAD|PUT|POST|PATCH|DELETE) (\S+) HTTP/g)].map((m) => `${m[1]} ${m[2]}`),
    stop,
  };
}
