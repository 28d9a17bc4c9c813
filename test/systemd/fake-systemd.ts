// A stand-in for systemd's end of NOTIFY_SOCKET: prints each datagram a Type=notify service sends.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

// Node has no AF_UNIX datagram sockets; perl (essential on Debian) receives for the test.
const RECEIVER = `
use IO::Socket::UNIX;
my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM(), Local => $ARGV[0]) or die "bind: $!";
$| = 1;
print "listening\\n";
while (defined $s->recv(my $buf, 65536)) { $buf =~ s/\\n/ /g; print "$buf\\n"; }
`;

/** Each datagram as one line (its assignments joined by spaces), in order. */
export class FakeSystemd {
  readonly messages: string[] = [];
  private readonly child: ChildProcess;
  private waiters: Array<() => void> = [];

  constructor(socket: string) {
    this.child = spawn('perl', ['-e', RECEIVER, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.messages.push(line);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  async next(match: (m: string) => boolean): Promise<string> {
    for (;;) {
      const found = this.messages.find(match);
      if (found !== undefined) return found;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  stop(): void {
    this.child.kill();
  }
}
