// Memory and CPU of one process from /proc, for measuring what a pod's shim and pause cost.
import { readFileSync } from 'node:fs';

export interface ProcessMemory {
  rssBytes: number;
  /** Proportional set size (shared pages split among their users); undefined without smaps_rollup. */
  pssBytes?: number;
}

/** Rss and Pss of `/proc/<pid>/smaps_rollup` (kB lines), falling back to VmRSS of status. */
export function readProcessMemory(pid: number, procRoot = '/proc'): ProcessMemory {
  try {
    const text = readFileSync(`${procRoot}/${pid}/smaps_rollup`, 'utf8');
    return { rssBytes: kbField(text, 'Rss'), pssBytes: kbField(text, 'Pss') };
  } catch {
    return { rssBytes: kbField(readFileSync(`${procRoot}/${pid}/status`, 'utf8'), 'VmRSS') };
  }
}

/** User + system CPU seconds so far (fields 14 and 15 of /proc/<pid>/stat, in clock ticks of 1/100 s). */
export function readProcessCpuSeconds(pid: number, procRoot = '/proc', ticksPerSecond = 100): number {
  const stat = readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

function kbField(text: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text);
  if (!match) throw new Error(`no ${name} line`);
  return Number(match[1]) * 1024;
}
