// A StreamingRuntime over local processes: exec runs the command on this machine, attach
// greets and echoes stdin, port-forward connects to 127.0.0.1:port.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ExecResult, StreamIO, StreamingRuntime, TerminalSize } from '../../src/streaming/runtime.ts';

export class ProcessRuntime implements StreamingRuntime {
  readonly children: ChildProcess[] = [];
  readonly resizes: TerminalSize[] = [];
  readonly signals: AbortSignal[] = [];
  readonly ttys: boolean[] = [];

  async exec(_containerId: string, cmd: string[], io: StreamIO, signal: AbortSignal): Promise<ExecResult> {
    this.signals.push(signal);
    this.ttys.push(io.tty);
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.children.push(child);
    child.stdin!.on('error', () => {});
    if (io.stdin) io.stdin.pipe(child.stdin!);
    else child.stdin!.end();
    if (io.stdout) child.stdout!.pipe(io.stdout, { end: false });
    else child.stdout!.resume();
    if (io.stderr) child.stderr!.pipe(io.stderr, { end: false });
    else child.stderr!.resume();
    void this.#recordResizes(io);
    const kill = () => child.kill('SIGKILL');
    signal.addEventListener('abort', kill, { once: true });
    try {
      const exitCode = await new Promise<number>((resolve, reject) => {
        child.once('error', reject);
        child.once('close', (code, sig) => resolve(code ?? 128 + (sig === 'SIGKILL' ? 9 : 15)));
      });
      return { exitCode };
    } finally {
      signal.removeEventListener('abort', kill);
    }
  }

  async attach(_containerId: string, io: StreamIO, signal: AbortSignal): Promise<void> {
    this.signals.push(signal);
    io.stdout?.write('attached\n');
    if (io.stdin === undefined) return;
    for await (const chunk of io.stdin) {
      if (signal.aborted) return;
      io.stdout?.write(chunk as Buffer);
    }
  }

  portForward(_podSandboxId: string, port: number, stream: Duplex, signal: AbortSignal): Promise<void> {
    this.signals.push(signal);
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('error', reject);
      signal.addEventListener('abort', () => socket.destroy(), { once: true });
      stream.pipe(socket);
      socket.pipe(stream, { end: false });
      socket.once('close', () => resolve());
    });
  }

  async #recordResizes(io: StreamIO): Promise<void> {
    if (io.resize === undefined) return;
    for await (const size of io.resize) this.resizes.push(size);
  }
}
