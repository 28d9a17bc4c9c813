// Process arguments and environment: CRI command/args merged with the image's entrypoint/cmd, and
// environment lists merged by key, as containerd (and Docker before it) does.
import { invalidArgument } from '../errors.ts';
import type { KeyValue__Output } from '../generated/runtime/v1/KeyValue.ts';
import { quote } from './cri-values.ts';
import type { ImageConfig } from './spec-types.ts';

export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * argv of a container. A CRI command replaces the image's entrypoint *and* cmd; CRI args alone
 * replace the cmd and keep the entrypoint; with neither, entrypoint + cmd. An image entrypoint of
 * exactly [""] means "no entrypoint" (Docker's `ENTRYPOINT [""]`).
 */
export function containerArgs(
  command: readonly string[],
  args: readonly string[],
  image: ImageConfig,
  field: string,
): string[] {
  let cmd = [...command];
  let rest = [...args];
  if (cmd.length === 0) {
    if (rest.length === 0) rest = [...(image.Cmd ?? [])];
    const entrypoint = image.Entrypoint ?? [];
    if (!(entrypoint.length === 1 && entrypoint[0] === '')) cmd = [...entrypoint];
  }
  const argv = [...cmd, ...rest];
  if (argv.length === 0)
    throw invalidArgument(
      `${field}: no command specified (neither the config's command/args nor the image's entrypoint/cmd)`,
    );
  checkArgv(argv, field);
  return argv;
}

export function checkArgv(argv: readonly string[], field: string): void {
  argv.forEach((arg, i) => {
    if (arg.includes('\0')) throw invalidArgument(`${field}: argument ${i} contains a NUL byte`);
  });
  if (argv[0] === '') throw invalidArgument(`${field}: the executable (argument 0) is empty`);
}

/**
 * `overrides` applied to `base` by key: a known key is replaced where it stands, a new one appended,
 * and an entry without "=" removes the key (containerd's replaceOrAppendEnvValues).
 */
export function mergeEnv(base: readonly string[], overrides: readonly string[]): string[] {
  const result: Array<string | undefined> = [...base];
  const index = new Map<string, number>();
  for (const [i, entry] of result.entries()) index.set(envKey(entry!), i);
  for (const entry of overrides) {
    const key = envKey(entry);
    const at = index.get(key);
    if (!entry.includes('=')) {
      if (at !== undefined) result[at] = undefined;
      continue;
    }
    if (at !== undefined && result[at] !== undefined) {
      result[at] = entry;
    } else {
      index.set(key, result.length);
      result.push(entry);
    }
  }
  return result.filter((e): e is string => e !== undefined);
}

const envKey = (entry: string): string => entry.split('=', 1)[0];

/** CRI envs as KEY=value strings; KeyValue.value is bytes on crid's wire contract. */
export function criEnv(envs: readonly KeyValue__Output[], field: string): string[] {
  return envs.map((kv, i) => {
    const key = kv.key ?? '';
    const value = typeof kv.value === 'string' ? kv.value : Buffer.from(kv.value ?? []).toString('utf8');
    if (key === '' || key.includes('=') || key.includes('\0'))
      throw invalidArgument(`${field}[${i}].key ${quote(key)} is not a valid variable name`);
    if (value.includes('\0')) throw invalidArgument(`${field}[${i}] (${quote(key)}): the value contains a NUL byte`);
    return `${key}=${value}`;
  });
}

/** The working directory: the config's, else the image's, else "/". It must be absolute. */
export function workingDir(requested: string, image: ImageConfig, field: string): string {
  const cwd = requested || image.WorkingDir || '/';
  if (!cwd.startsWith('/')) throw invalidArgument(`${field} ${quote(cwd)} must be an absolute path`);
  return cwd;
}
