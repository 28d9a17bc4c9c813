// Runs a program to completion through child_process directly. execa's machinery per run (streams,
// abort controllers, env merging) costs about 2 ms of event-loop time, and the pod hot paths run
// several programs per pod (CNI plugins, the netns, the pod's /dev/shm).
import { spawn } from 'node:child_process';

export interface ProcessResult {
  /** null when the program was killed by a signal or could not be started. */
  exitCode: number | null;
  stdout: string;
  /** The program's stderr, or why it could not be started. */
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  /** Written to stdin, which is closed after it; without it stdin is /dev/null. */
  input?: string;
  /** Added to crid's environment. */
  env?: Record<string, string>;
  /** SIGTERM after this long, SIGKILL killAfterMs later. */
  timeoutMs?: number;
  killAfterMs?: number;
}

const DEFAULT_KILL_AFTER_MS = 1000;

export function runProcess(file: string, args: string[], opts: RunOptions = {}): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    let timedOut = false;
    let killer: NodeJS.Timeout | undefined;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGTERM');
            killer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? DEFAULT_KILL_AFTER_MS);
          }, opts.timeoutMs);
    const done = (exitCode: number | null, why = '') => {
      clearTimeout(timer);
      clearTimeout(killer);
      resolve({ exitCode, stdout: Buffer.concat(stdout).toString(), stderr: why || Buffer.concat(stderr).toString(), timedOut });
    };
    child.once('error', (err) => done(null, `cannot run ${file}: ${err.message}`));
    child.once('close', (code) => done(code));
    if (opts.input !== undefined) {
      // A program that exits without reading its input closes the pipe: not an error of the run.
      child.stdin!.on('error', () => {});
      child.stdin!.end(opts.input);
    }
  });
}
