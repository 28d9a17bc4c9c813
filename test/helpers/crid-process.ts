// Runs a real `crid serve` as a child process for integration tests.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CRID = path.join(REPO, 'scripts/crid');

export interface CridProcess {
  child: ChildProcess;
  socket: string;
  /** Everything crid wrote to stderr so far (its JSON logs). */
  stderr: () => string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startCrid(configFile: string, socket: string, extraArgs: string[] = []): CridProcess {
  const child = spawn(CRID, ['serve', '--config', configFile, '--socket', socket, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (chunk) => (err += chunk));
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    socket,
    stderr: () => err,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Waits until the socket exists, or fails with crid's stderr if it exited first. */
export async function waitForSocket(proc: CridProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`crid exited with ${proc.child.exitCode}: ${proc.stderr()}`);
    if (fs.existsSync(proc.socket) && proc.stderr().includes('crid is ready')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`crid did not serve ${proc.socket} within ${timeoutMs} ms: ${proc.stderr()}`);
}

/** The smallest config crid serves on: the runc handler, CNI config, root and state all under `dir`. */
export function writeMinimalConfig(dir: string): string {
  const configFile = path.join(dir, 'config.toml');
  fs.writeFileSync(
    configFile,
    `version = 2
[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "runc"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.grpc.v1.cri".cni]
  conf_dir = "${dir}/net.d"
[crid]
  root = "${dir}/root"
  state = "${dir}/state"
  metrics_address = ""
`,
  );
  return configFile;
}
