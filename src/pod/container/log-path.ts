// Where a container's CRI log goes: kubelet sends the pod's log_directory and the container's path
// relative to it; the result must stay inside the directory.
import path from 'node:path';
import { invalidArgument } from '../../errors.ts';

/** The absolute log file path, or '' when the pod or the container names none. */
export function containerLogPath(logDirectory: string, logPath: string): string {
  if (!logDirectory || !logPath) return '';
  if (path.isAbsolute(logPath))
    throw invalidArgument(
      `container config: log_path ${JSON.stringify(logPath)} must be relative to the pod's log_directory`,
    );
  const dir = path.resolve(logDirectory);
  const full = path.resolve(dir, logPath);
  if (!full.startsWith(`${dir}/`)) {
    throw invalidArgument(
      `container config: log_path ${JSON.stringify(logPath)} escapes the pod's log_directory ${JSON.stringify(logDirectory)}`,
    );
  }
  return full;
}
