import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const DAEMON = path.resolve(import.meta.dirname, '../daemon.ts');

describe('http-modules', () => {
  it("loading the daemon does not load Node's bundled undici", () => {
    const script = `await import(${JSON.stringify(DAEMON)});
console.log(JSON.stringify(process.moduleLoadList.filter((m) => m.includes('undici'))));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([]);
  });
});
