import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { type Spawned, spawnDaemon, spawnProcess } from './spawn.ts';

async function output(child: Spawned): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const read = (s: NodeJS.ReadableStream) =>
    new Promise<string>((r) => {
      let text = '';
      s.on('data', (c: Buffer) => (text += c));
      s.on('end', () => r(text));
    });
  const [stdout, stderr, exit] = await Promise.all([read(child.stdout), read(child.stderr), child.exit]);
  return { stdout, stderr, code: exit.code };
}

describe('spawnProcess', () => {
  it('runs a program in its directory with its environment and input, and reports its exit status', async () => {
    const child = await spawnProcess('sh', ['-c', 'read line; echo "$line $VAR $(pwd)"; echo err >&2; exit 3'], {
      env: { PATH: process.env.PATH, VAR: 'value' },
      cwd: os.tmpdir(),
      stdin: 'pipe',
    });
    child.stdin!.end('hello\n');
    expect(await output(child)).toEqual({
      stdout: `hello value ${fs.realpathSync(os.tmpdir())}\n`,
      stderr: 'err\n',
      code: 3,
    });
  });

  it('gives the child default dispositions for the standard signals, none blocked, stdin /dev/null', async () => {
    // The spawned program reads its own status: a shell in between would show its own mask, which
    // dash fills while it waits for a child.
    const status = await spawnProcess('/bin/grep', ['-E', '^Sig(Ign|Blk)', '/proc/self/status'], {
      env: {},
      stdin: 'ignore',
    });
    const [blocked, ignored] = (await output(status)).stdout.trim().split('\n');
    expect(blocked).toBe('SigBlk:\t0000000000000000');
    // glibc leaves its two internal real-time signals (32, 33) ignored; crid itself ignores SIGPIPE.
    expect(BigInt(`0x${ignored!.split('\t')[1]}`) & 0x7fffffffn).toBe(0n);
    const stdin = await spawnProcess('/bin/readlink', ['/proc/self/fd/0'], { env: {}, stdin: 'ignore' });
    expect((await output(stdin)).stdout).toBe('/dev/null\n');
  });

  it("passes on no descriptor of crid's: the child has those a child_process child has", async () => {
    const held = fs.openSync(os.tmpdir(), 'r');
    try {
      const list = ['-c', 'ls /proc/$$/fd'];
      const ours = (await output(await spawnProcess('/bin/sh', list, { env: {}, stdin: 'ignore' }))).stdout;
      const nodes = (await promisify(execFile)('/bin/sh', list)).stdout;
      expect(ours).toBe(nodes);
      expect(ours.split('\n')).not.toContain(String(held));
    } finally {
      fs.closeSync(held);
    }
  });

  it('reports the signal that ended the child, and kills it only while it is its own', async () => {
    const child = await spawnProcess('/bin/sleep', ['30'], { env: {}, stdin: 'ignore' });
    child.kill('SIGTERM');
    expect(await child.exit).toEqual({ code: null, signal: 'SIGTERM' });
    expect(() => child.kill('SIGKILL')).not.toThrow();
  });

  it('starts the child in a session of its own when asked', async () => {
    const child = await spawnProcess('/bin/sleep', ['30'], { env: {}, stdin: 'ignore', newSession: true });
    const session = Number(fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[3]);
    expect(session).toBe(child.pid);
    process.kill(-child.pid, 'SIGKILL');
    expect(await child.exit).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it("neither takes nor loses an exit beside Node's own child processes", async () => {
    const ours = await Promise.all(
      Array.from({ length: 10 }, (_, i) => spawnProcess('/bin/sh', ['-c', `exit ${i}`], { env: {}, stdin: 'ignore' })),
    );
    const theirs = Array.from({ length: 10 }, () => promisify(execFile)('/bin/sh', ['-c', 'echo node']));
    expect(await Promise.all(ours.map((c) => c.exit))).toEqual(ours.map((_, i) => ({ code: i, signal: null })));
    expect((await Promise.all(theirs)).map((r) => r.stdout)).toEqual(Array(10).fill('node\n'));
  });

  it('refuses an argument with a NUL byte rather than cutting it short', async () => {
    await expect(spawnProcess('/bin/echo', ['a\0b'], { env: {}, stdin: 'ignore' })).rejects.toThrow(/NUL byte/);
  });

  it('fails as Node does for a program that does not exist', async () => {
    await expect(spawnProcess('/nonexistent/crid-binary', [], { env: {}, stdin: 'ignore' })).rejects.toThrow(
      expect.objectContaining({ code: 'ENOENT', message: 'spawn /nonexistent/crid-binary ENOENT' }),
    );
  });
});

describe('spawnDaemon', () => {
  it('starts a daemon in its own session with /dev/null for stdio and the given descriptor as fd 3', async () => {
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'crid-daemon-')));
    const fd = fs.openSync(path.join(dir, 'fd3'), 'w');
    try {
      const daemon = await spawnDaemon('/bin/sleep', ['30'], { env: { VAR: 'value' }, cwd: dir, fd3: fd });
      const proc = `/proc/${daemon.pid}`;
      const fds = [0, 1, 2, 3].map((n) => fs.readlinkSync(`${proc}/fd/${n}`));
      expect(fds).toEqual(['/dev/null', '/dev/null', '/dev/null', path.join(dir, 'fd3')]);
      expect(fs.readlinkSync(`${proc}/cwd`)).toBe(dir);
      expect(fs.readFileSync(`${proc}/environ`, 'utf8')).toBe('VAR=value\0');
      const [, , pgrp, session] = fs.readFileSync(`${proc}/stat`, 'utf8').split(') ')[1]!.split(' ');
      expect([Number(pgrp), Number(session)]).toEqual([daemon.pid, daemon.pid]);
      process.kill(daemon.pid, 'SIGTERM');
      expect(await daemon.exit).toEqual({ code: null, signal: 'SIGTERM' });
    } finally {
      fs.closeSync(fd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not keep the process alive: it ends while its daemon runs on', async () => {
    const code = `import { spawnDaemon } from ${JSON.stringify(path.resolve(import.meta.dirname, 'spawn.ts'))};
      const fd = (await import('node:fs')).openSync('/dev/null', 'r');
      const { pid } = await spawnDaemon('/bin/sleep', ['30'], { env: {}, cwd: '/', fd3: fd });
      console.log(pid);`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code], {
      timeout: 20_000,
    });
    const pid = Number(stdout.trim());
    try {
      expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('/bin/sleep\x0030\x00');
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });
});
