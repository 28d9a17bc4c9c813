// Command-line parsing for crid's commands: node's parseArgs with its usage error as a value, so that
// each command answers it with its own usage text.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** parseArgs's result, or the message of the error it threw for an unknown or malformed option. */
export function parseCommandArgs<T extends ParseArgsConfig>(
  config: T,
): ReturnType<typeof parseArgs<T>> | { error: string } {
  try {
    return parseArgs(config);
  } catch (err) {
    return { error: (err as Error).message };
  }
}
