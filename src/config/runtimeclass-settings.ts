// Checks of `[crid.runtimeclass.<handler>]`: Kubernetes quantities and tolerations as the API server
// would accept them in a RuntimeClass, so `kubectl apply` of `crid runtimeclass` output never fails.
import type { Toleration } from './model.ts';

const QUANTITY = /^(\d+(\.\d*)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+)?$/;
const TOLERATION_KEYS = new Set(['key', 'operator', 'value', 'effect', 'tolerationSeconds']);
const OPERATORS = new Set(['Equal', 'Exists']);
const EFFECTS = new Set(['', 'NoSchedule', 'PreferNoSchedule', 'NoExecute']);

/** A non-negative Kubernetes resource quantity ("250m", "160Mi", "1.5", "1e3"). */
export function isQuantity(text: string): boolean {
  return QUANTITY.test(text);
}

/** Problems with one written toleration, each a sentence; [] when valid. */
export function tolerationProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['a toleration must be a table'];
  const t = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(t)) {
    if (!TOLERATION_KEYS.has(key))
      problems.push(`unknown toleration key "${key}" (known: ${[...TOLERATION_KEYS].join(', ')})`);
  }
  for (const key of ['key', 'operator', 'value', 'effect']) {
    if (t[key] !== undefined && typeof t[key] !== 'string') problems.push(`toleration ${key} must be a string`);
  }
  const operator = (t.operator as string | undefined) ?? 'Equal';
  if (!OPERATORS.has(operator)) problems.push(`toleration operator must be Equal or Exists, got "${operator}"`);
  if (operator === 'Exists' && t.value !== undefined && t.value !== '')
    problems.push('toleration value must be empty when operator is Exists');
  if ((t.key === undefined || t.key === '') && operator !== 'Exists')
    problems.push('a toleration without a key must have operator Exists');
  if (t.effect !== undefined && !EFFECTS.has(t.effect as string))
    problems.push(`toleration effect must be NoSchedule, PreferNoSchedule or NoExecute, got "${String(t.effect)}"`);
  if (t.tolerationSeconds !== undefined) problems.push(...secondsProblems(t.tolerationSeconds, t.effect));
  return problems;
}

function secondsProblems(seconds: unknown, effect: unknown): string[] {
  const integer = (typeof seconds === 'number' && Number.isInteger(seconds)) || typeof seconds === 'bigint';
  if (!integer) return ['toleration tolerationSeconds must be an integer'];
  return effect === 'NoExecute' ? [] : ['toleration tolerationSeconds only applies to effect NoExecute'];
}

/** The toleration as the Kubernetes API spells it (integers as numbers, absent keys left out). */
export function toKubernetesToleration(t: Toleration): Toleration {
  const out: Toleration = {};
  if (t.key !== undefined) out.key = t.key;
  if (t.operator !== undefined) out.operator = t.operator;
  if (t.value !== undefined) out.value = t.value;
  if (t.effect !== undefined) out.effect = t.effect;
  if (t.tolerationSeconds !== undefined) out.tolerationSeconds = Number(t.tolerationSeconds);
  return out;
}
