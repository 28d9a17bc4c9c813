// Helpers for container tests: a pod with a log directory, busybox container configs, waiting for states.
import fs from 'node:fs';
import path from 'node:path';
import { podConfig, type PodEnv } from '../helpers/pod-env.ts';

export interface TestPod {
  id: string;
  config: Record<string, unknown>;
  logDir: string;
}

export async function runPod(
  env: PodEnv,
  name: string,
  handler: string,
  extra: Record<string, unknown> = {},
): Promise<TestPod> {
  const logDir = path.join(env.dir, 'logs', name);
  fs.mkdirSync(logDir, { recursive: true });
  const config = podConfig(name, { log_directory: logDir, ...extra });
  const { pod_sandbox_id: id } = await env.client.runtime.RunPodSandbox({ config, runtime_handler: handler });
  return { id, config, logDir };
}

export function containerConfig(
  env: PodEnv,
  name: string,
  script: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    metadata: { name, attempt: 0 },
    image: { image: env.busyboxImage },
    command: ['/bin/sh', '-c', script],
    log_path: `${name}/0.log`,
    linux: {},
    ...extra,
  };
}

export async function createContainer(env: PodEnv, pod: TestPod, config: Record<string, unknown>): Promise<string> {
  const { container_id: id } = await env.client.runtime.CreateContainer({
    pod_sandbox_id: pod.id,
    config,
    sandbox_config: pod.config,
  });
  return id;
}

export async function runContainer(env: PodEnv, pod: TestPod, config: Record<string, unknown>): Promise<string> {
  const id = await createContainer(env, pod, config);
  await env.client.runtime.StartContainer({ container_id: id });
  return id;
}

export async function status(env: PodEnv, id: string, verbose = false) {
  return env.client.runtime.ContainerStatus({ container_id: id, verbose });
}

/** Polls until the container has exited (the test's own timeout bounds it). */
export async function waitExited(env: PodEnv, id: string) {
  for (;;) {
    const s = (await status(env, id)).status!;
    if (s.state === 'CONTAINER_EXITED') return s;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls until `predicate` holds for the file's text. */
export async function waitForFile(file: string, predicate: (text: string) => boolean): Promise<string> {
  for (;;) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (predicate(text)) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function logFile(pod: TestPod, name: string): string {
  return path.join(pod.logDir, name, '0.log');
}

/** The CRI log records of a file: [stream, tag, text]. */
export function logRecords(text: string): Array<[string, string, string]> {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z) (stdout|stderr) ([PF]) (.*)$/.exec(line);
      if (!m) throw new Error(`not a CRI log line: ${JSON.stringify(line)}`);
      return [m[2]!, m[3]!, m[4]!];
    });
}
