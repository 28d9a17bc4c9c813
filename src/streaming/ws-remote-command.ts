// remotecommand (exec/attach) over WebSocket: channel 0 stdin, 1 stdout, 2 stderr, 3 error
// (the outcome), 4 resize, all on one socket.
import type { WebSocket } from 'ws';
import type { Logger } from '../log.ts';
import type { ChannelProtocol } from './protocols.ts';
import { runRemoteCommand, type RemoteCommand } from './remote-command.ts';
import type { StreamingRuntime } from './runtime.ts';
import { statusJson, statusText, type Outcome } from './status.ts';
import { ChannelSocket } from './ws-channels.ts';

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;

function outcomePayload(outcome: Outcome, protocol: ChannelProtocol): string | undefined {
  return protocol.statusJson ? statusJson(outcome) : statusText(outcome);
}

export async function serveRemoteCommandOverWebSocket(
  ws: WebSocket,
  protocol: ChannelProtocol,
  command: RemoteCommand,
  runtime: StreamingRuntime,
  logger: Logger,
): Promise<void> {
  const { stdin, stdout, stderr } = command.request;
  const channels = new ChannelSocket(ws, protocol, stdin ? [STDIN, RESIZE] : [RESIZE], logger);
  // An empty message on the lowest writable channel tells the client the session is up.
  await channels.send(stdout ? STDOUT : stderr ? STDERR : ERROR, Buffer.alloc(0));
  await runRemoteCommand(
    command,
    {
      stdin: stdin ? channels.reader(STDIN) : undefined,
      stdout: stdout ? channels.writer(STDOUT) : undefined,
      stderr: stderr ? channels.writer(STDERR) : undefined,
      resize: channels.reader(RESIZE),
      gone: channels.gone,
      finish: async (outcome) => {
        const payload = outcomePayload(outcome, protocol);
        if (payload !== undefined) await channels.send(ERROR, payload);
        channels.close();
      },
    },
    runtime,
    logger,
  );
}
