// The one way crid runs a short-lived program (mount, ip, CNI plugins, …): an argument array, the
// output collected as text. Plain child_process: execa and its dependencies cost the daemon about
// 9 MiB of memory for the few options crid uses.
import { spawn } from 'node:child_process';

export interface CommandOptions {
  /** Written to the program's stdin, which is otherwise /dev/null. */
  input?: string;
  /** Added to crid's own environment. */
  env?: NodeJS.ProcessEnv;
  /** SIGTERM after this long, SIGKILL a second later. */
  timeoutMs?: number;
}

export interface CommandResult {
  /** Undefined when the program could not start or a signal ended it. */
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Anything but exit status 0. */
  failed: boolean;
  /** What went wrong, for an error message ('' when nothing did). */
  message: string;
}

const KILL_GRACE_MS = 1_000;

function describe(file: string, args: string[]): string {
  return [file, ...args].join(' ');
}

function failure(file: string, args: string[], r: Omit<CommandResult, 'failed' | 'message'>, signal: string | null, spawnError?: Error): string {
  const what = describe(file, args);
  const why = spawnError ? spawnError.message : r.timedOut ? 'timed out' : signal ? `was killed by ${signal}` : `exited with status ${r.exitCode}`;
  const stderr = r.stderr.trim();
  return `${what} ${spawnError ? `failed: ${why}` : why}${stderr ? `: ${stderr}` : ''}`;
}

/** Runs the program to its end; never rejects (a program that cannot start is a failed result). */
export function tryCommand(file: string, args: string[], opts: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let spawnError: Error | undefined;
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    if (opts.input !== undefined) {
      // A program that exits without reading its input closes the pipe: its exit status tells.
      child.stdin!.on('error', () => {});
      child.stdin!.end(opts.input);
    }
    let killTimer: NodeJS.Timeout | undefined;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGTERM');
            killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
          }, opts.timeoutMs);
    child.on('error', (err) => (spawnError = err));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      const result = { exitCode: spawnError ? undefined : (code ?? undefined), stdout, stderr, timedOut };
      const failed = code !== 0 || timedOut || spawnError !== undefined;
      resolve({ ...result, failed, message: failed ? failure(file, args, result, signal, spawnError) : '' });
    });
  });
}

/** Runs the program to its end; rejects with what went wrong unless it exited with status 0. */
export async function runCommand(file: string, args: string[], opts: CommandOptions = {}): Promise<CommandResult> {
  const result = await tryCommand(file, args, opts);
  if (result.failed) throw new Error(result.message);
  return result;
}
