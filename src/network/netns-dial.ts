// A TCP connection made from inside a pod's network namespace, for port-forward: the socket is
// made in the namespace (see tcpSocketInNetns) and connected by Node from crid's own, so a
// connection costs no process (it was `nsenter … busybox nc` per connection, a fork of crid each).
import fs from 'node:fs';
import net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { unavailable } from '../errors.ts';
import { tcpSocketInNetns } from '../util/libc.ts';

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
  const socket = netnsSocket(netnsPath);
  const done = new Promise<void>((resolve, reject) => {
    let failure: Error | undefined;
    socket.on('error', (err) => {
      failure = err;
    });
    socket.on('close', () =>
      failure
        ? reject(unavailable(`connection to ${host}:${port} in ${netnsPath} failed: ${failure.message}`, failure))
        : resolve(),
    );
  });
  socket.connect(port, host);
  return { input: socket, output: socket, done, close: () => socket.destroy() };
}

function netnsSocket(netnsPath: string): net.Socket {
  let fd: number;
  try {
    fd = tcpSocketInNetns(netnsPath);
  } catch (err) {
    throw unavailable(`cannot enter network namespace ${netnsPath}: ${(err as Error).message}`, err);
  }
  try {
    // manualStart: Node's own option (its child processes' pipes use it) not to read before the
    // socket is connected; an unconnected socket reports a hang-up to a reader.
    return new net.Socket({ fd, manualStart: true } as net.SocketConstructorOpts);
  } catch (err) {
    fs.closeSync(fd);
    throw unavailable(`cannot use a socket in network namespace ${netnsPath}: ${(err as Error).message}`, err);
  }
}
