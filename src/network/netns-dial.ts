// A TCP connection made from inside a pod's network namespace, for port-forward: Node cannot
// setns, so a `busybox nc` entered into the namespace carries the bytes over its stdio
// (the way kubelet's dockershim used `nsenter … socat`).
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { unavailable } from '../errors.ts';

export const NC_BINARY = '/bin/busybox';

export interface NetnsConnection {
  /** Bytes to the remote port; ending it half-closes the connection. */
  input: Writable;
  /** Bytes from the remote port, until it closed the connection. */
  output: Readable;
  /** Resolves when the connection is over; rejects if it could not be made or broke. */
  done: Promise<void>;
  /** Tears the connection down. */
  close(): void;
}

/** Connects to host:port (loopback by default) as seen from inside the network namespace. */
export function dialInNetns(netnsPath: string, port: number, host = '127.0.0.1'): NetnsConnection {
  const child = spawn('nsenter', [`--net=${netnsPath}`, '--', NC_BINARY, 'nc', host, String(port)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // The pipes break whenever nc exits first (a refused or reset connection); its exit status is
  // what tells how the connection ended, so their errors carry nothing more.
  child.stdin.on('error', () => {});
  child.stdout.on('error', () => {});
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (err) => reject(unavailable(`cannot enter network namespace ${netnsPath}: ${err.message}`, err)));
    child.on('close', (code, signal) => {
      if (code === 0 || signal === 'SIGTERM') resolve();
      else
        reject(
          unavailable(
            `connection to ${host}:${port} in ${netnsPath} failed: ${stderr.trim() || `exit ${code ?? signal}`}`,
          ),
        );
    });
  });
  return {
    input: child.stdin,
    output: child.stdout,
    done,
    close: () => {
      child.kill('SIGTERM');
    },
  };
}
