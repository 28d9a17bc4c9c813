// Pods crid starts for itself: the deep self-check of a handler and the overhead measurement behind
// `crid runtimeclass --measure`. Both use host-network pause sandboxes (the handler is what is being
// judged, not the pod network) and remove them whatever happens.
import { randomBytes } from 'node:crypto';
import { startSandbox, type SandboxRequest } from './run.ts';
import { readProcessCpuSeconds, readProcessMemory } from '../../handler-health/proc-usage.ts';
import type { PodCostSample } from '../../handler-health/overhead.ts';
import { canceled } from '../../errors.ts';
import type { PodDeps } from '../deps.ts';
import { removePodSandbox } from './remove.ts';

const IDLE_WINDOW_MS = 2000;

function probeRequest(handler: string, purpose: string): SandboxRequest {
  const name = `crid-${purpose}-${randomBytes(4).toString('hex')}`;
  return {
    config: {
      metadata: { name, namespace: 'crid-system', uid: name, attempt: 0 },
      hostname: '',
      log_directory: '',
      dns_config: null,
      port_mappings: [],
      labels: { 'crid.io/purpose': purpose },
      annotations: {},
      linux: {
        cgroup_parent: '',
        security_context: {
          namespace_options: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD', target_id: '', userns_options: null },
          selinux_options: null,
          run_as_user: null,
          run_as_group: null,
          readonly_rootfs: false,
          supplemental_groups: [],
          supplemental_groups_policy: 'Merge',
          privileged: false,
          seccomp: null,
          apparmor: null,
          seccomp_profile_path: '',
        },
        sysctls: {},
        overhead: null,
        resources: null,
      },
      windows: null,
    },
    runtime_handler: handler,
  };
}

/** The deep check: one real pause sandbox through the handler, timed, then removed. */
export async function runPauseSandbox(
  deps: PodDeps,
  handler: string,
  signal: AbortSignal,
): Promise<{ seconds: number }> {
  const started = process.hrtime.bigint();
  const record = await startSandbox(deps, probeRequest(handler, 'check'), deps.log, { healthGate: false });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await removePodSandbox(deps, record.id);
  if (signal.aborted) throw canceled(`deep check of handler "${handler}" was cancelled`);
  return { seconds };
}

/** Starts `pods` pause sandboxes, measures what each costs over an idle window, removes them. */
export async function measurePods(
  deps: PodDeps,
  handler: string,
  pods: number,
): Promise<{ samples: PodCostSample[]; note?: string }> {
  const ids: string[] = [];
  try {
    for (let i = 0; i < pods; i++) {
      ids.push((await startSandbox(deps, probeRequest(handler, 'measure'), deps.log, { healthGate: true })).id);
    }
    const pids = ids.map((id) => deps.sandboxes.get(id)).map((s) => ({ shim: s.shimPid, sandbox: s.pid }));
    const cpu = () => pids.map((p) => readProcessCpuSeconds(p.shim) + readProcessCpuSeconds(p.sandbox));
    const before = cpu();
    await new Promise((resolve) => setTimeout(resolve, IDLE_WINDOW_MS));
    const after = cpu();
    const samples = pids.map((p, i): PodCostSample => {
      const shim = readProcessMemory(p.shim);
      const sandbox = readProcessMemory(p.sandbox);
      const pss = shim.pssBytes !== undefined && sandbox.pssBytes !== undefined;
      return {
        shimBytes: pss ? shim.pssBytes! : shim.rssBytes,
        sandboxBytes: pss ? sandbox.pssBytes! : sandbox.rssBytes,
        memoryKind: pss ? 'pss' : 'rss',
        cpuSeconds: after[i]! - before[i]!,
        windowSeconds: IDLE_WINDOW_MS / 1000,
      };
    });
    const fake = deps.config().runtimes[handler]?.runtime_path.includes('fake');
    return { samples, ...(fake && { note: "figures are the fake shim's (a Node process), not a VM's" }) };
  } finally {
    for (const id of ids)
      await removePodSandbox(deps, id).catch((err: unknown) =>
        deps.log.error({ err, podId: id }, 'removing a measured pod failed'),
      );
  }
}
