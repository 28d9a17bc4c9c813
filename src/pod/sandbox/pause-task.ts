// The pause task: the sandbox's own process, from the sandbox image's snapshot and the pod's spec,
// started and stopped in its handler's shim.
import type { ImageRecord } from '../../image/image-store.ts';
import { withBaseSpec } from '../../oci/base-spec.ts';
import { buildSandboxSpec, type SandboxFiles } from '../../oci/sandbox-spec.ts';
import type { PodDeps } from '../deps.ts';
import { imageConfigForSpec } from '../image-config.ts';
import { isRuncKind } from '../../runtime/shim-binary.ts';
import { killAndReapTask } from '../task.ts';
import type { SandboxMaking } from './making.ts';
import type { SandboxNetwork } from './network.ts';

export interface PauseTaskInput {
  image: ImageRecord;
  /** '' for a host-network pod. */
  netnsPath: string;
  files: SandboxFiles;
  network: SandboxNetwork;
}

/**
 * Rootfs, spec and shim of the pause container, then its task, created and started. A runc-kind task
 * only joins the netns, so it is made while CNI ADD runs; a VM shim's waits for the pod's interfaces.
 */
export async function startPauseTask(
  m: SandboxMaking,
  input: PauseTaskInput,
): Promise<{ pid: number; shimPid: number }> {
  const { deps, id, config, handler, undo, phase } = m;
  const cfg = deps.config();
  const rootfs = deps.images.prepareSnapshot(id, input.image.id);
  undo.push('remove sandbox snapshot', () => deps.images.snapshotter.remove(id));

  const spec = await withBaseSpec(
    handler.base_runtime_spec,
    buildSandboxSpec({
      config,
      sandboxId: id,
      handler,
      imageName: cfg.sandbox_image,
      imageConfig: imageConfigForSpec(input.image.config),
      netnsPath: input.netnsPath || undefined,
      files: input.files,
      host: deps.host,
      restrictOomScoreAdj: cfg.restrict_oom_score_adj,
      unprivilegedPorts: cfg.enable_unprivileged_ports,
      unprivilegedIcmp: cfg.enable_unprivileged_icmp,
    }),
  );

  const started = await deps.shims.startTask({
    handler,
    id,
    spec,
    rootfs,
    io: { stdin: '', stdout: '', stderr: '', terminal: false },
    time: phase,
    beforeCreate: () => (isRuncKind(handler) ? input.network.netns : input.network.ips),
  });
  undo.push('stop and delete sandbox task', () => stopSandboxTask(deps, id));
  const { pid } = await phase('task_start', () => started.task.start(id));
  return { pid, shimPid: started.shimPid };
}

export async function stopSandboxTask(deps: PodDeps, id: string): Promise<void> {
  await killAndReapTask(deps, id);
}
