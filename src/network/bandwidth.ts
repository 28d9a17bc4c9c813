// The bandwidth plugin's runtime capability from the pod annotations kubelet documents
// (kubernetes.io/ingress-bandwidth, kubernetes.io/egress-bandwidth), as containerd computes it.
import { invalidArgument } from '../errors.ts';

export const INGRESS_BANDWIDTH = 'kubernetes.io/ingress-bandwidth';
export const EGRESS_BANDWIDTH = 'kubernetes.io/egress-bandwidth';

/** containerd's burst for an annotated direction (bits). */
const BURST = 2 ** 32 - 1;

const SUFFIX: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes resource quantity ("10M", "1.5Gi", "1e6") as a whole number, rounded up. */
export function parseQuantity(text: string): number {
  const m = /^(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[mkMGTPE]))?$/.exec(text.trim());
  if (!m) throw new Error(`${JSON.stringify(text)} is not a quantity`);
  const scale = m[2] !== undefined ? 10 ** Number(m[2]) : (SUFFIX[m[3] ?? ''] ?? 1);
  const value = Math.ceil(Number(m[1]) * scale);
  if (!Number.isSafeInteger(value)) throw new Error(`${JSON.stringify(text)} is out of range`);
  return value;
}

function rate(annotations: Record<string, string>, key: string): number | undefined {
  const text = annotations[key];
  if (text === undefined) return undefined;
  try {
    return parseQuantity(text);
  } catch (err) {
    throw invalidArgument(`pod annotation ${key}: ${(err as Error).message}`, err);
  }
}

/** The `bandwidth` capability value, or undefined when neither annotation is set. */
export function bandwidthFromAnnotations(annotations: Record<string, string>): Record<string, number> | undefined {
  const ingress = rate(annotations, INGRESS_BANDWIDTH);
  const egress = rate(annotations, EGRESS_BANDWIDTH);
  if (ingress === undefined && egress === undefined) return undefined;
  return {
    ...(ingress !== undefined && { ingressRate: ingress, ingressBurst: BURST }),
    ...(egress !== undefined && { egressRate: egress, egressBurst: BURST }),
  };
}
