// The one way crid runs a short-lived program (mount, ip, CNI plugins, …): an argument array, no
// shell, the output collected as text. Node's spawn directly, not execa: under crid's V8 settings
// execa's option handling and stream plumbing cost about 2 ms of CPU per program on top of the
// ~1 ms the spawn itself takes, and a pod runs a dozen programs.
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
/** Per stream; a program that prints more is killed. */
const MAX_OUTPUT_BYTES = 16 << 20;
/** How long output may still arrive after the program exited, from children that hold its pipes. */
const DRAIN_AFTER_EXIT_MS = 200;

interface Ending {
  exitCode: number | undefined;
  signal: NodeJS.Signals | null;
  startError?: Error;
  overflow: boolean;
  timedOut: boolean;
}

function why(e: Ending): string {
  if (e.startError) return `failed: ${e.startError.message}`;
  if (e.timedOut) return 'timed out';
  if (e.overflow) return `printed more than ${MAX_OUTPUT_BYTES} bytes`;
  if (e.signal) return `was killed by ${e.signal}`;
  return `exited with status ${e.exitCode}`;
}

/** Runs the program to its end; never rejects (a program that cannot start is a failed result). */
export function tryCommand(file: string, args: string[], opts: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: opts.env === undefined ? process.env : { ...process.env, ...opts.env },
    });
    const stdout = child.stdout!;
    const stderr = child.stderr!;
    const ending: Ending = { exitCode: undefined, signal: null, overflow: false, timedOut: false };
    const out: Buffer[][] = [[], []];
    const size = [0, 0];
    for (const [i, stream] of [stdout, stderr].entries()) {
      stream.on('data', (chunk: Buffer) => {
        size[i]! += chunk.length;
        if (size[i]! <= MAX_OUTPUT_BYTES) out[i]!.push(chunk);
        else if (!ending.overflow) {
          ending.overflow = true;
          child.kill('SIGKILL');
        }
      });
    }
    if (opts.input !== undefined) {
      // A program that exits without reading its stdin closes the pipe: EPIPE is no failure of crid's.
      child.stdin!.on('error', () => {});
      child.stdin!.end(opts.input);
    }
    let killer: NodeJS.Timeout | undefined;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            ending.timedOut = true;
            child.kill('SIGTERM');
            killer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
          }, opts.timeoutMs);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(killer);
      const text = out.map((chunks) => Buffer.concat(chunks).toString());
      const failed = ending.exitCode !== 0 || ending.timedOut || ending.overflow;
      const detail = text[1]!.trim();
      const message = failed ? `${[file, ...args].join(' ')} ${why(ending)}${detail ? `: ${detail}` : ''}` : '';
      resolve({
        exitCode: ending.exitCode,
        stdout: text[0]!,
        stderr: text[1]!,
        timedOut: ending.timedOut,
        failed,
        message,
      });
    };
    child.on('error', (err) => {
      ending.startError = err;
      finish();
    });
    child.on('exit', (code, signal) => {
      ending.exitCode = code ?? undefined;
      ending.signal = signal;
      setTimeout(() => {
        stdout.destroy();
        stderr.destroy();
      }, DRAIN_AFTER_EXIT_MS).unref();
    });
    child.on('close', finish);
  });
}

/** Runs the program to its end; rejects with what went wrong unless it exited with status 0. */
export async function runCommand(file: string, args: string[], opts: CommandOptions = {}): Promise<CommandResult> {
  const result = await tryCommand(file, args, opts);
  if (result.failed) throw new Error(result.message);
  return result;
}
