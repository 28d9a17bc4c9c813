// Keeps a Wait outstanding for every process crid starts (and, after a restart, every task it
// reconnects to), so an exit whose event the shim failed to deliver (events endpoint unreachable,
// a `publish` that failed, crid down) still reaches the exit monitor.
// The monitor delivers each exit once, so the event and the Wait never both count.
import type { ExitMonitor } from '../events/exit-monitor.ts';
import type { Logger } from '../log.ts';
import type { TaskService } from './task-service.ts';
import { nowNanos } from '../util/time.ts';

/** Waits for one process's exit in its shim and hands it to the monitor. */
export function waitForExit(
  task: TaskService,
  monitor: ExitMonitor,
  namespace: string,
  log: Logger,
  proc: { id: string; execId?: string; pid: number },
): void {
  const { id, execId, pid } = proc;
  task.wait(id, execId).then(
    (exit) => {
      const exitedAt = exit.exitedAt === '0' ? nowNanos() : exit.exitedAt;
      monitor.emit({
        type: 'exit',
        namespace,
        containerId: id,
        id: execId || id,
        pid,
        exitStatus: exit.exitStatus,
        exitedAt,
        timestamp: exitedAt,
      });
    },
    (err: unknown) => log.debug({ err, containerId: id, execId }, 'wait backstop ended without an exit'),
  );
}

export function withWaitBackstop(task: TaskService, monitor: ExitMonitor, namespace: string, log: Logger): TaskService {
  const start = async (id: string, execId?: string): Promise<{ pid: number }> => {
    const started = await task.start(id, execId);
    waitForExit(task, monitor, namespace, log, { id, execId, pid: started.pid });
    return started;
  };
  return new Proxy(task, {
    get(target, prop, receiver) {
      if (prop === 'start') return start;
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
