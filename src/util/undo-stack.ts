// Undo steps registered as a multi-step operation makes progress; on failure they run in reverse,
// each under its own timeout and independent of the caller's (possibly cancelled) deadline.
import type { Logger } from '../log.ts';
import { withTimeout } from './timeout.ts';

interface Step {
  what: string;
  undo: () => Promise<unknown>;
}

export class UndoStack {
  private readonly steps: Step[] = [];

  push(what: string, undo: () => Promise<unknown>): void {
    this.steps.push({ what, undo });
  }

  /** Forget the steps: the operation succeeded and what it made now belongs to a store. */
  commit(): void {
    this.steps.length = 0;
  }

  async unwind(log: Logger, stepTimeoutMs = 30_000): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await withTimeout(step.undo(), stepTimeoutMs, step.what);
      } catch (err) {
        log.error({ err, step: step.what }, 'undo step failed; resources may be left behind');
      }
    }
  }
}
