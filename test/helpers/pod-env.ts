// A whole node for pod tests: a local registry holding a pause image and a busybox image, a CNI
// network of the test's own, a crid config with every handler (runc, crun, runc-v1, the fake kata
// shim), and a running crid with a CRI client. dispose() removes everything it made.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll } from 'vitest';
import { startRegistry, type TestRegistry } from './registry.ts';
import { buildLayer, busyboxEntries, file, pushImage } from './image-builder.ts';
import { criClient, type CriClient } from './cri-client.ts';
import { REPO, startCrid, waitForSocket, type CridProcess } from './crid-process.ts';
import { createCniFixture, type CniFixture } from '../network/cni-fixture.ts';

export const FAKE_KATA_SHIM = path.join(REPO, 'test/fake-shim/containerd-shim-fakekata-v2');

export interface PodEnv {
  dir: string;
  configFile: string;
  socket: string;
  registry: TestRegistry;
  cni: CniFixture;
  pauseImage: string;
  busyboxImage: string;
  crid: CridProcess;
  client: CriClient;
  /** Runs crid again on the same config and state (after stop or SIGKILL). */
  restart(signal?: NodeJS.Signals): Promise<void>;
  dispose(): Promise<void>;
}

export interface PodEnvOptions {
  /** Extra handler tables (TOML) for the runtimes section, made once the CNI fixture exists. */
  extraRuntimes?: (cni: CniFixture) => Promise<string>;
  /** [crid] metrics_address; "" (off) by default. */
  metricsAddress?: string;
}

interface ConfigParts {
  dir: string;
  pauseImage: string;
  cniConf: string;
  cniBin: string[];
  metricsAddress: string;
}

function configToml(env: ConfigParts, extra: string): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `version = 2
[${cri}]
  sandbox_image = "${env.pauseImage}"
  restrict_oom_score_adj = true
[${cri}.containerd]
  default_runtime_name = "runc"
[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
  [${cri}.containerd.runtimes.runc.options]
    BinaryName = "runc"
    Root = "${env.dir}/runc"
[${cri}.containerd.runtimes.crun]
  runtime_type = "io.containerd.runc.v2"
  [${cri}.containerd.runtimes.crun.options]
    BinaryName = "crun"
    Root = "${env.dir}/crun"
[${cri}.containerd.runtimes.runc-v1]
  runtime_type = "io.containerd.runtime.v1.linux"
  [${cri}.containerd.runtimes.runc-v1.options]
    Runtime = "runc"
    RuntimeRoot = "${env.dir}/runc-v1"
[${cri}.containerd.runtimes.kata]
  runtime_type = "io.containerd.kata.v2"
  runtime_path = "${FAKE_KATA_SHIM}"
  pod_annotations = ["io.katacontainers.*", "fake-shim/*"]
${extra}
[${cri}.cni]
  bin_dirs = ${JSON.stringify(env.cniBin)}
  conf_dir = "${env.cniConf}"
[crid]
  root = "${env.dir}/root"
  state = "${env.dir}/state"
  metrics_address = "${env.metricsAddress}"
`;
}

export async function pushTestImages(registry: TestRegistry): Promise<{ pauseImage: string; busyboxImage: string }> {
  const pause = await buildLayer([file('pause', fs.readFileSync('/usr/bin/catatonit'), { mode: 0o755 })]);
  await pushImage(registry.address, 'crid-test/pause', [pause], {
    tag: 'test',
    config: { Entrypoint: ['/pause', '-P'], Cmd: null, User: '65535:65535' },
  });
  const busybox = await buildLayer(await busyboxEntries());
  await pushImage(registry.address, 'crid-test/busybox', [busybox], { tag: 'test', config: { Cmd: ['/bin/sh'] } });
  return {
    pauseImage: `${registry.address}/crid-test/pause:test`,
    busyboxImage: `${registry.address}/crid-test/busybox:test`,
  };
}

/** One crid for the file's tests, with the busybox image pulled; `use` receives it before the first test. */
export function withPodEnv(use: (env: PodEnv) => void, opts: PodEnvOptions = {}): void {
  let env: PodEnv | undefined;
  beforeAll(async () => {
    env = await startPodEnv(opts);
    await env.client.image.PullImage({ image: { image: env.busyboxImage } });
    use(env);
  }, 180_000);
  afterAll(async () => {
    await env?.dispose();
  }, 120_000);
}

/**
 * A temp dir for the file's own tools (wrapper runtimes, shims), made before the tests and removed
 * after them; registered before withPodEnv, it outlives the crid whose config names its files.
 */
export function withToolsDir(prefix: string): () => string {
  let dir: string | undefined;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  return () => dir!;
}

export async function startPodEnv(opts: PodEnvOptions = {}): Promise<PodEnv> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-pods-'));
  const registry = await startRegistry();
  const cni = await createCniFixture();
  const images = await pushTestImages(registry);
  const configFile = path.join(dir, 'crid.toml');
  fs.writeFileSync(
    configFile,
    configToml(
      {
        dir,
        pauseImage: images.pauseImage,
        cniConf: cni.confDir,
        cniBin: [cni.binDir, '/usr/lib/cni'],
        metricsAddress: opts.metricsAddress ?? '',
      },
      (await opts.extraRuntimes?.(cni)) ?? '',
    ),
  );
  const socket = path.join(dir, 'crid.sock');
  const env: PodEnv = {
    dir,
    configFile,
    socket,
    registry,
    cni,
    ...images,
    crid: startCrid(configFile, socket),
    client: undefined as unknown as CriClient,
    async restart(signal = 'SIGTERM') {
      env.client.close();
      await env.crid.stop(signal);
      keepLog(env);
      env.crid = startCrid(configFile, socket);
      await waitForSocket(env.crid);
      env.client = criClient(socket);
    },
    async dispose() {
      try {
        const { items } = await env.client.runtime.ListPodSandbox({});
        for (const pod of items) await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id }).catch(() => {});
      } catch {
        // crid is not running: nothing to remove through it
      }
      env.client.close();
      await env.crid.stop();
      await killLeftovers(dir);
      await registry.stop();
      await cni.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await waitForSocket(env.crid);
  env.client = criClient(socket);
  return env;
}

/** Appends the stopped crid's log to crid.log in the test dir, so a run's whole history can be read. */
function keepLog(env: PodEnv): void {
  fs.appendFileSync(path.join(env.dir, 'crid.log'), env.crid.stderr());
}

/** Kills shims and containers whose command line mentions the test dir (only after a failed test). */
async function killLeftovers(dir: string): Promise<void> {
  const { stdout } = await execa('ps', ['-eo', 'pid=,args='], { reject: false });
  for (const line of stdout.split('\n')) {
    const [pid, ...args] = line.trim().split(/\s+/);
    if (args.join(' ').includes(dir) && Number(pid) !== process.pid) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

export function podConfig(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    metadata: { name, namespace: 'crid-test', uid: `uid-${name}`, attempt: 0 },
    hostname: name,
    log_directory: '',
    linux: {},
    ...extra,
  };
}

/** Live (not zombie) processes whose parent is pid. */
export function childrenOf(pid: number): Array<{ pid: number; comm: string; args: string }> {
  const out: Array<{ pid: number; comm: string; args: string }> = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== pid || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      out.push({ pid: Number(entry), comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), args });
    } catch {
      // raced with the process exiting
    }
  }
  return out;
}

/** True once pid is gone or a zombie (the shims' reaper here is PID 1, which reaps late). */
export async function processGone(pid: number, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let state = '';
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    } catch {
      return true;
    }
    if (state === 'Z') return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
