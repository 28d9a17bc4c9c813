import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { createNetnsAt, listenUnixSocket, MNT_DETACH, mkfifo, mount, umount } from './libc.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-libc-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('libc', () => {
  it('listens on a unix socket a client can connect to; an existing or too long path fails', async () => {
    const socketPath = path.join(dir, 'shim.sock');
    const fd = listenUnixSocket(socketPath);
    try {
      expect(fs.statSync(socketPath).isSocket()).toBe(true);
      const connected = await new Promise<boolean>((resolve) => {
        const client = net.connect(socketPath, () => {
          client.destroy();
          resolve(true);
        });
        client.on('error', () => resolve(false));
      });
      expect(connected).toBe(true);
      expect(() => listenUnixSocket(socketPath)).toThrow(expect.objectContaining({ code: 'EADDRINUSE' }));
    } finally {
      fs.closeSync(fd);
    }
    expect(() => listenUnixSocket(path.join(dir, 'x'.repeat(120)))).toThrow(
      expect.objectContaining({ code: 'ENAMETOOLONG' }),
    );
  });

  it('makes a FIFO, and reports an existing path as EEXIST', () => {
    const fifo = path.join(dir, 'f');
    mkfifo(fifo, 0o700);
    const st = fs.statSync(fifo);
    expect(st.isFIFO()).toBe(true);
    expect(st.mode & 0o777).toBe(0o700);
    expect(() => mkfifo(fifo, 0o700)).toThrow(expect.objectContaining({ code: 'EEXIST', syscall: 'mkfifo' }));
  });

  it('mounts a tmpfs with its options and unmounts it', () => {
    const target = path.join(dir, 'shm');
    fs.mkdirSync(target);
    mount('shm', target, 'tmpfs', 0, 'mode=1777,size=1m');
    try {
      const line = fs
        .readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .find((l) => l.split(' ')[4] === target);
      expect(line).toMatch(/ - tmpfs shm .*size=1024k/);
      fs.writeFileSync(path.join(target, 'x'), 'bytes');
    } finally {
      umount(target);
    }
    expect(fs.existsSync(path.join(target, 'x'))).toBe(false);
    expect(() => umount(target)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('makes a network namespace with lo up, and stays in its own', () => {
    const own = fs.readlinkSync('/proc/thread-self/ns/net');
    const name = `crid-libc-test-${process.pid}`;
    const target = path.join('/run/netns', name);
    fs.mkdirSync('/run/netns', { recursive: true });
    fs.writeFileSync(target, '', { flag: 'wx', mode: 0 });
    try {
      createNetnsAt(target);
      expect(fs.readlinkSync('/proc/thread-self/ns/net')).toBe(own);
      const links = execFileSync('ip', ['-n', name, '-o', 'link', 'show'], { encoding: 'utf8' });
      expect(links.trim().split('\n')).toHaveLength(1);
      expect(links).toMatch(/^1: lo: <LOOPBACK,UP,LOWER_UP>/);
    } finally {
      umount(target, MNT_DETACH);
      fs.rmSync(target);
    }
  });

  it('leaves the thread in its own namespace when the bind mount fails', () => {
    const own = fs.readlinkSync('/proc/thread-self/ns/net');
    expect(() => createNetnsAt(path.join(dir, 'missing', 'ns'))).toThrow(
      expect.objectContaining({ code: 'ENOENT', syscall: 'mount' }),
    );
    expect(fs.readlinkSync('/proc/thread-self/ns/net')).toBe(own);
  });
});
