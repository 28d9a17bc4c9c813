// Reads config/crid.service: section → key → value, and the settings with no comment above them.
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from '../helpers/crid-process.ts';

export const UNIT_FILE = path.join(REPO, 'config/crid.service');

export interface Unit {
  get(section: string, key: string): string | undefined;
  uncommented: string[];
}

export function readUnit(file = UNIT_FILE): Unit {
  const values = new Map<string, string>();
  const uncommented: string[] = [];
  let section = '';
  let previous = '';
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) section = header[1]!;
    const setting = /^(\w+)=(.*)$/.exec(line);
    if (setting) {
      values.set(`${section}.${setting[1]}`, setting[2]!);
      if (!previous.startsWith('#')) uncommented.push(line);
    }
    previous = line;
  }
  return { get: (s, k) => values.get(`${s}.${k}`), uncommented };
}
