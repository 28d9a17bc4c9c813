// The one withTimeout. It rejects with DeadlineExceeded, chosen on purpose: what ran out is time (a
// shim that does not answer, a task that does not exit, an undo step that hangs), so a client whose
// call fails for it sees DeadlineExceeded and may retry, not Internal.
import { deadlineExceeded } from '../errors.ts';

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(deadlineExceeded(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
