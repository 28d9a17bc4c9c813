// A TCP connection made from inside a pod's network namespace, for port-forward: Node cannot
// setns, so a `busybox nc` entered into the namespace carries the bytes over its stdio
// (the way kubelet's dockershim used `nsenter … socat`).
import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import { unavailable } from '../errors.ts';

export const NC_BINARY = '/bin/busybox';

export interface NetnsConnection {
  /** Bytes to and from the remote port; ending the writable side half-closes the connection. */
  stream: Duplex;
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
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (err) => reject(unavailable(`cannot enter network namespace ${netnsPath}: ${err.message}`, err)));
    child.on('close', (code, signal) => {
      if (code === 0 || signal === 'SIGTERM') resolve();
      else reject(unavailable(`connection to ${host}:${port} in ${netnsPath} failed: ${stderr.trim() || `exit ${code ?? signal}`}`));
    });
  });
  return {
    stream: Duplex.from({ readable: child.stdout, writable: child.stdin }),
    done,
    close: () => {
      child.kill('SIGTERM');
    },
  };
}
