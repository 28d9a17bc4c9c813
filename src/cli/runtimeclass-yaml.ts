// RuntimeClass objects (node.k8s.io/v1) and node labels for this node's working handlers.
import { stringify } from 'yaml';
import type { RuntimeClassSettings } from '../config/model.ts';
import type { MeasureReport, OverheadProposal } from '../handler-health/overhead.ts';
import { toKubernetesToleration } from '../config/runtimeclass-settings.ts';

/**
 * The node label that marks a working handler: `runtime-handler.crid.io/<handler>=true`. The handler
 * is the label's name part (a DNS-1123 label fits its 63 characters); `crid.io/runtime-handler.<h>`
 * would overflow it for handler names over 47 characters.
 */
export function handlerLabelKey(handler: string): string {
  return `runtime-handler.crid.io/${handler}`;
}

/** What RuntimeClass.handler accepts: a lowercase DNS-1123 label of at most 63 characters. */
export function isRuntimeClassHandlerName(name: string): boolean {
  return name.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name);
}

export interface RuntimeClassEntry {
  handler: string;
  settings?: RuntimeClassSettings;
  /** From `--measure`: overrides the configured overhead; its raw figures become comments. */
  measured?: { proposal: OverheadProposal; report: MeasureReport };
}

export function renderRuntimeClasses(entries: readonly RuntimeClassEntry[]): string {
  return entries.map(renderOne).join('---\n');
}

function renderOne(entry: RuntimeClassEntry): string {
  const { handler, settings, measured } = entry;
  const podFixed: Record<string, string> = {};
  const cpu = measured?.proposal.cpu ?? settings?.overhead_cpu ?? '';
  const memory = measured?.proposal.memory ?? settings?.overhead_memory ?? '';
  if (cpu !== '') podFixed.cpu = cpu;
  if (memory !== '') podFixed.memory = memory;
  const tolerations = (settings?.tolerations ?? []).map(toKubernetesToleration);
  const object = {
    apiVersion: 'node.k8s.io/v1',
    kind: 'RuntimeClass',
    metadata: { name: handler, labels: { 'app.kubernetes.io/managed-by': 'crid' } },
    handler,
    ...(Object.keys(podFixed).length > 0 ? { overhead: { podFixed } } : {}),
    scheduling: {
      nodeSelector: { [handlerLabelKey(handler)]: 'true' },
      ...(tolerations.length > 0 ? { tolerations } : {}),
    },
  };
  return `${measured ? measuredComment(measured.proposal, measured.report) : ''}${stringify(object)}`;
}

const MIB = 1024 * 1024;

function measuredComment(p: OverheadProposal, report: MeasureReport): string {
  const kind = report.samples[0]?.memoryKind.toUpperCase() ?? 'RSS';
  const lines = [
    `Measured by crid on ${report.samples.length} pause sandbox(es) of handler "${report.handler}":`,
    ...report.samples.map(
      (s, i) =>
        `  pod ${i + 1}: shim ${(s.shimBytes / MIB).toFixed(1)} MiB ${kind}, sandbox ${(s.sandboxBytes / MIB).toFixed(1)} MiB ${kind}, ` +
        `cpu ${((s.cpuSeconds / s.windowSeconds) * 1000).toFixed(2)}m over ${s.windowSeconds} s idle`,
    ),
    `  largest pod: ${(p.maxMemoryBytes / MIB).toFixed(1)} MiB, ${(p.maxCpuCores * 1000).toFixed(2)}m; mean ${(p.meanMemoryBytes / MIB).toFixed(1)} MiB, ${(p.meanCpuCores * 1000).toFixed(2)}m`,
    `  proposed overhead.podFixed = largest + ${p.marginPercent}% margin, memory rounded up to Mi, cpu up to millicores`,
    ...(report.note ? [`  note: ${report.note}`] : []),
  ];
  return lines.map((l) => `# ${l}\n`).join('');
}

/** The labels for this node's working handlers and the kubectl line that sets them. */
export function renderLabels(handlers: readonly string[], nodeName: string): string {
  const labels = handlers.map((h) => `${handlerLabelKey(h)}=true`);
  return `${labels.join('\n')}\n\nkubectl label node ${nodeName} --overwrite ${labels.join(' ')}\n`;
}
