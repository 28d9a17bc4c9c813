// The OCI Process of an exec (ExecSync / Exec): the container's process with another argv, sent as
// JSON in the shim's Exec request.
import { invalidArgument } from '../errors.ts';
import { checkArgv, mergeEnv } from './process.ts';
import type { Process } from './spec-types.ts';

/** The container's process (user, env, cwd, capabilities, …) running `cmd`, with TERM=xterm for a tty. */
export function execProcessSpec(containerProcess: Process, cmd: readonly string[], tty: boolean): Process {
  if (cmd.length === 0) throw invalidArgument('exec: cmd is empty');
  checkArgv(cmd, 'exec: cmd');
  const { terminal: _terminal, ...rest } = containerProcess;
  return {
    ...structuredClone(rest),
    ...(tty && { terminal: true }),
    args: [...cmd],
    env: tty ? mergeEnv(containerProcess.env, ['TERM=xterm']) : [...containerProcess.env],
  };
}
