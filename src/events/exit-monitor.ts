// The one path every task event takes, whichever shim sent it (events socket, `crid publish`,
// a Wait backstop, or a lost shim connection turned into exits). Exits are delivered once per process.
import type { Logger } from '../log.ts';
import type { TaskEvent, TaskExitEvent } from './task-events.ts';

export type TaskEventListener = (event: TaskEvent) => void;

export class ExitMonitor {
  private readonly listeners = new Set<TaskEventListener>();
  private readonly exited = new Map<string, TaskExitEvent>();
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  /** Returns a function that unsubscribes. */
  subscribe(listener: TaskEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: TaskEvent): void {
    if (event.type === 'exit') {
      const key = exitKey(event.containerId, event.id);
      if (this.exited.has(key)) return;
      this.exited.set(key, event);
    }
    if (event.type === 'delete') this.forgetTask(event.containerId);
    this.log.debug({ containerId: event.containerId, event: event.type }, 'task event');
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.log.error({ err, containerId: event.containerId, event: event.type }, 'task event listener failed');
      }
    }
  }

  hasExited(containerId: string, id = containerId): boolean {
    return this.exited.has(exitKey(containerId, id));
  }

  /** Resolves with the exit of a process, now if it was already seen. */
  waitForExit(containerId: string, id = containerId): Promise<TaskExitEvent> {
    const seen = this.exited.get(exitKey(containerId, id));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const unsubscribe = this.subscribe((event) => {
        if (event.type === 'exit' && event.containerId === containerId && event.id === id) {
          unsubscribe();
          resolve(event);
        }
      });
    });
  }

  /** Lets a task id be reused (after delete) without its old exit suppressing the new one. */
  forgetTask(containerId: string): void {
    for (const key of this.exited.keys()) if (key.startsWith(`${containerId}/`)) this.exited.delete(key);
  }
}

function exitKey(containerId: string, id: string): string {
  return `${containerId}/${id}`;
}
