// The one way crid runs a short-lived program (CNI plugins, cp, …): an argument array, no shell,
// the output collected as text, the process started by posix_spawn (spawn.ts).
import { type Spawned, spawnProcess } from './spawn.ts';

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
export async function tryCommand(file: string, args: string[], opts: CommandOptions = {}): Promise<CommandResult> {
  const ending: Ending = { exitCode: undefined, signal: null, overflow: false, timedOut: false };
  let child: Spawned;
  try {
    child = await spawnProcess(file, args, {
      stdin: opts.input === undefined ? 'ignore' : 'pipe',
      env: opts.env === undefined ? process.env : { ...process.env, ...opts.env },
    });
  } catch (err) {
    ending.startError = err as Error;
    return result(file, args, ending, ['', '']);
  }
  return new Promise((resolve) => {
    const { stdout, stderr } = child;
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
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    let killer: NodeJS.Timeout | undefined;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            ending.timedOut = true;
            child.kill('SIGTERM');
            killer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
          }, opts.timeoutMs);
    void child.exit.then(() => {
      setTimeout(() => {
        stdout.destroy();
        stderr.destroy();
      }, DRAIN_AFTER_EXIT_MS).unref();
    });
    void child.closed.then(({ code, signal }) => {
      ending.exitCode = code ?? undefined;
      ending.signal = signal;
      clearTimeout(timer);
      clearTimeout(killer);
      resolve(
        result(
          file,
          args,
          ending,
          out.map((chunks) => Buffer.concat(chunks).toString()),
        ),
      );
    });
  });
}

function result(file: string, args: string[], ending: Ending, text: string[]): CommandResult {
  const failed = ending.exitCode !== 0 || ending.timedOut || ending.overflow;
  const detail = text[1]!.trim();
  return {
    exitCode: ending.exitCode,
    stdout: text[0]!,
    stderr: text[1]!,
    timedOut: ending.timedOut,
    failed,
    message: failed ? `${[file, ...args].join(' ')} ${why(ending)}${detail ? `: ${detail}` : ''}` : '',
  };
}

/** Runs the program to its end; rejects with what went wrong unless it exited with status 0. */
export async function runCommand(file: string, args: string[], opts: CommandOptions = {}): Promise<CommandResult> {
  const result = await tryCommand(file, args, opts);
  if (result.failed) throw new Error(result.message);
  return result;
}
