// The one way crid runs a short-lived program (mount, ip, CNI plugins, …): an argument array, the
// output collected as text. execa is loaded with the first program run, so a daemon that has not
// started a pod yet does not carry it.
import type { Result } from 'execa';

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

let execaModule: Promise<typeof import('execa')> | undefined;

function loadExeca(): Promise<typeof import('execa')> {
  execaModule ??= import('execa');
  return execaModule;
}

function why(r: Result): string {
  if (r.exitCode === undefined && !r.isTerminated && !r.timedOut)
    return `failed: ${(r.cause as Error | undefined)?.message ?? 'cannot start'}`;
  if (r.timedOut) return 'timed out';
  if (r.signal) return `was killed by ${r.signal}`;
  return `exited with status ${r.exitCode}`;
}

/** Runs the program to its end; never rejects (a program that cannot start is a failed result). */
export async function tryCommand(file: string, args: string[], opts: CommandOptions = {}): Promise<CommandResult> {
  const { execa } = await loadExeca();
  const r = await execa(file, args, {
    reject: false,
    stripFinalNewline: false,
    ...(opts.input === undefined ? { stdin: 'ignore' as const } : { input: opts.input }),
    env: opts.env,
    timeout: opts.timeoutMs,
    forceKillAfterDelay: KILL_GRACE_MS,
  });
  const stdout = String(r.stdout ?? '');
  const stderr = String(r.stderr ?? '');
  const detail = stderr.trim();
  const message = r.failed ? `${[file, ...args].join(' ')} ${why(r)}${detail ? `: ${detail}` : ''}` : '';
  return { exitCode: r.exitCode, stdout, stderr, timedOut: r.timedOut, failed: r.failed, message };
}

/** Runs the program to its end; rejects with what went wrong unless it exited with status 0. */
export async function runCommand(file: string, args: string[], opts: CommandOptions = {}): Promise<CommandResult> {
  const result = await tryCommand(file, args, opts);
  if (result.failed) throw new Error(result.message);
  return result;
}
