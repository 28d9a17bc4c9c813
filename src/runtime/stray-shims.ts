// A shim crid takes for gone may still run: crid was killed after launching it and before recording
// where it listens (its bundle has no address), or it did not answer in time. Nothing would ever stop
// it, so it is found by its command line, which names its task, and killed.
import fs from 'node:fs';

/** SIGKILLs every process whose arguments `isShim` accepts; returns their pids. */
export async function killStrayShims(isShim: (args: string[]) => boolean): Promise<number[]> {
  const killed: number[] = [];
  for (const entry of await fs.promises.readdir('/proc')) {
    const pid = Number(entry);
    if (!(pid > 0) || pid === process.pid) continue;
    const cmdline = await fs.promises.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline || !isShim(cmdline.split('\0'))) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // it exited meanwhile
    }
  }
  return killed;
}

/** The value after `flag` in a command line ('' when absent). */
export function flagValue(args: string[], flag: string): string {
  const at = args.indexOf(flag);
  return at >= 0 ? (args[at + 1] ?? '') : '';
}
