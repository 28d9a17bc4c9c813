// What a pod costs the node beyond its containers, measured on real pause sandboxes, turned into a
// RuntimeClass `overhead.podFixed`: which handlers are measured, and the arithmetic (the pods are
// started through a MeasurePods callback).
import type { HandlerHealth } from './health.ts';

/** One measured pause sandbox. */
export interface PodCostSample {
  /** Memory of the pod's shim process(es): PSS when the kernel has smaps_rollup, else RSS. */
  shimBytes: number;
  /** Memory of the pause process, or of the VM for a VM-isolated handler. */
  sandboxBytes: number;
  /** Which memory figure the bytes are. */
  memoryKind: 'pss' | 'rss';
  /** CPU time (user + system) of shim and sandbox processes over the idle window. */
  cpuSeconds: number;
  windowSeconds: number;
}

/** The measurement of one handler: its samples, or why it was skipped. */
export interface MeasureReport {
  handler: string;
  ok: boolean;
  reason: string;
  samples: PodCostSample[];
  /** e.g. "the fake kata shim: figures are the fake's, not a VM's". */
  note?: string;
}

/** Starts `pods` pause sandboxes on `handler`, measures them, removes them (also on failure). */
export type MeasurePods = (handler: string, pods: number) => Promise<{ samples: PodCostSample[]; note?: string }>;

/** Measures `handler`, or every handler that passed its last check; a failing handler is reported, not measured. */
export async function measureHandlers(
  health: HandlerHealth,
  measurePods: MeasurePods,
  handler: string | undefined,
  pods: number,
): Promise<MeasureReport[]> {
  const names =
    handler !== undefined
      ? [handler]
      : health
          .all()
          .filter((r) => r.ok)
          .map((r) => r.handler);
  const reports: MeasureReport[] = [];
  for (const name of names) {
    const failed = health.failed(name);
    if (failed) {
      reports.push({ handler: name, ok: false, reason: failed, samples: [] });
      continue;
    }
    try {
      const { samples, note } = await measurePods(name, pods);
      reports.push({ handler: name, ok: true, reason: '', samples, ...(note && { note }) });
    } catch (err) {
      reports.push({ handler: name, ok: false, reason: err instanceof Error ? err.message : String(err), samples: [] });
    }
  }
  return reports;
}

export interface OverheadProposal {
  /** Kubernetes quantities for `overhead.podFixed`. */
  cpu: string;
  memory: string;
  marginPercent: number;
  /** The largest per-pod figures before the margin. */
  maxMemoryBytes: number;
  maxCpuCores: number;
  meanMemoryBytes: number;
  meanCpuCores: number;
}

export const DEFAULT_MARGIN_PERCENT = 20;
const MI = 1024 * 1024;

/**
 * The largest per-pod figure plus a safety margin: memory rounded up to whole Mi, CPU up to whole
 * millicores (at least 1m, so an idle shim still counts). Samples must not be empty.
 */
export function proposeOverhead(
  samples: readonly PodCostSample[],
  marginPercent = DEFAULT_MARGIN_PERCENT,
): OverheadProposal {
  if (samples.length === 0) throw new RangeError('proposeOverhead needs at least one sample');
  const memory = samples.map((s) => s.shimBytes + s.sandboxBytes);
  const cpu = samples.map((s) => (s.windowSeconds > 0 ? s.cpuSeconds / s.windowSeconds : 0));
  const factor = 1 + marginPercent / 100;
  const maxMemoryBytes = Math.max(...memory);
  const maxCpuCores = Math.max(...cpu);
  return {
    memory: `${ceil((maxMemoryBytes * factor) / MI)}Mi`,
    cpu: `${Math.max(1, ceil(maxCpuCores * factor * 1000))}m`,
    marginPercent,
    maxMemoryBytes,
    maxCpuCores,
    meanMemoryBytes: memory.reduce((a, b) => a + b, 0) / memory.length,
    meanCpuCores: cpu.reduce((a, b) => a + b, 0) / cpu.length,
  };
}

/** Rounds up, ignoring floating-point dust (0.1 × 1.5 × 1000 is 150.00000000000003, not 151). */
function ceil(x: number): number {
  return Math.ceil(Number(x.toFixed(6)));
}
