// Running one CNI plugin binary per the CNI spec: the command in the environment, the
// network config on stdin, a result or an error object on stdout.
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { tryCommand } from '../util/command.ts';
import { deadlineExceeded, failedPrecondition, internal } from '../errors.ts';
import type { CniResult } from './cni-result.ts';

export type CniCommand = 'ADD' | 'DEL';

export interface PluginCall {
  command: CniCommand;
  /** Plugin type, the binary's name. */
  type: string;
  networkName: string;
  containerId: string;
  /** "" when the namespace is gone (DEL only). */
  netnsPath: string;
  ifName: string;
  cniArgs: [string, string][];
  binDirs: string[];
  /** The full stdin config: plugin conf with name, cniVersion, prevResult, runtimeConfig. */
  stdin: Record<string, unknown>;
  timeoutMs: number;
}

/** The first executable `<dir>/<type>` of the bin dirs, like libcni's FindInPath. */
export async function findPlugin(type: string, binDirs: string[]): Promise<string> {
  if (type.includes('/')) throw failedPrecondition(`invalid CNI plugin type ${JSON.stringify(type)}`);
  for (const dir of binDirs) {
    const path = join(dir, type);
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {
      // not in this dir
    }
  }
  throw failedPrecondition(`failed to find CNI plugin ${JSON.stringify(type)} in path [${binDirs.join(' ')}]`);
}

export function formatCniArgs(args: [string, string][]): string {
  return args.map(([k, v]) => `${k}=${v}`).join(';');
}

function pluginEnv(call: PluginCall): Record<string, string> {
  return {
    CNI_COMMAND: call.command,
    CNI_CONTAINERID: call.containerId,
    CNI_NETNS: call.netnsPath,
    CNI_IFNAME: call.ifName,
    CNI_ARGS: formatCniArgs(call.cniArgs),
    CNI_PATH: call.binDirs.join(':'),
  };
}

/** The plugin's own words from a CNI error object on stdout, else its stderr. */
export function describePluginFailure(stdout: string, stderr: string, exitCode: number | undefined): string {
  try {
    const e = JSON.parse(stdout) as { code?: unknown; msg?: unknown; details?: unknown };
    if (e.msg !== undefined || e.code !== undefined) {
      const details = e.details ? ` (${String(e.details)})` : '';
      return `code ${String(e.code ?? '?')}: ${String(e.msg ?? '')}${details}`;
    }
  } catch {
    // not a CNI error object
  }
  return stderr.trim() || stdout.trim() || `exit status ${exitCode ?? 'unknown'}`;
}

/** Runs the plugin and returns its decoded result (`{}` for a DEL with empty output). */
export async function execPlugin(call: PluginCall): Promise<CniResult> {
  const binary = await findPlugin(call.type, call.binDirs);
  const what = `CNI plugin type=${JSON.stringify(call.type)} name=${JSON.stringify(call.networkName)}`;
  const run = await tryCommand(binary, [], {
    input: JSON.stringify(call.stdin),
    env: pluginEnv(call),
    timeoutMs: call.timeoutMs,
  });
  if (run.timedOut) {
    throw deadlineExceeded(`${what} timed out after ${call.timeoutMs}ms (${call.command.toLowerCase()})`);
  }
  if (run.exitCode !== 0) {
    const why = describePluginFailure(run.stdout, run.stderr, run.exitCode);
    throw internal(`${what} failed (${call.command.toLowerCase()}): ${why}`);
  }
  if (run.stdout.trim() === '') return {};
  try {
    return JSON.parse(run.stdout) as CniResult;
  } catch (err) {
    throw internal(
      `${what} printed an unreadable result (${call.command.toLowerCase()}): ${run.stdout.slice(0, 200)}`,
      err,
    );
  }
}
