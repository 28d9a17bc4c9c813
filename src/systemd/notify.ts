// systemd's readiness protocol (sd_notify) for a `Type=notify` unit: READY=1 once crid serves,
// STOPPING=1 when it shuts down, STATUS= one line for `systemctl status`.
//
// The message is a datagram on the AF_UNIX socket named by $NOTIFY_SOCKET. Node's core has no
// AF_UNIX datagram sockets, and the npm modules that do (sd-notify, unix-dgram) are native addons
// compiled at install time. A node that runs crid under systemd has systemd's own `systemd-notify`,
// so crid runs that. Started directly (no shell), it sends with its parent's pid, crid's, which is
// the unit's main pid: the default NotifyAccess=main accepts it.
import { tryCommand } from '../util/command.ts';
import type { Logger } from '../log.ts';

export interface ServiceNotifier {
  ready(status: string): Promise<void>;
  status(status: string): Promise<void>;
  stopping(status: string): Promise<void>;
}

/** Notifies systemd when it started crid with $NOTIFY_SOCKET; otherwise does nothing. */
export function serviceNotifier(env: NodeJS.ProcessEnv, log: Logger): ServiceNotifier {
  if (!env.NOTIFY_SOCKET) return { ready: async () => {}, status: async () => {}, stopping: async () => {} };
  const send = async (assignments: string[]) => {
    const result = await tryCommand('systemd-notify', assignments, { env, timeoutMs: 10_000 });
    // systemd restarts a notify unit that never says READY=1: the log says why.
    if (result.failed) log.error({ assignments, err: result.message }, 'systemd-notify failed');
  };
  return {
    ready: (status) => send(['READY=1', statusAssignment(status)]),
    status: (status) => send([statusAssignment(status)]),
    stopping: (status) => send(['STOPPING=1', statusAssignment(status)]),
  };
}

/** STATUS= holds one line. */
function statusAssignment(status: string): string {
  return `STATUS=${status.replace(/\s*\n\s*/g, '; ')}`;
}
