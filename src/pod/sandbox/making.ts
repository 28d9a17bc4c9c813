// What the steps of one RunPodSandbox share: run.ts drives them, network.ts and pause-task.ts take
// their part.
import type { PodSandboxConfig__Output } from '../../generated/runtime/v1/PodSandboxConfig.ts';
import type { RuntimeHandler } from '../../config/model.ts';
import type { SandboxPhase } from '../../metrics/metrics.ts';
import type { UndoStack } from '../../util/undo-stack.ts';
import type { PodDeps } from '../deps.ts';

/** Runs one phase of RunPodSandbox, timed per handler. */
export type Phase = <T>(name: SandboxPhase, work: () => Promise<T>) => Promise<T>;

export interface SandboxMaking {
  deps: PodDeps;
  id: string;
  config: PodSandboxConfig__Output;
  handler: RuntimeHandler;
  undo: UndoStack;
  log: PodDeps['log'];
  phase: Phase;
}
