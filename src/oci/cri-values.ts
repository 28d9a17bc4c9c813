// Reading decoded CRI values defensively: int64 fields arrive as decimal strings, enums as names
// (or as numbers when a client sends a value this proto does not know), nested messages as null.
import { invalidArgument } from '../errors.ts';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** An int64 field as bigint; "" or absent is 0. */
export function int64(value: string | number | null | undefined, field: string): bigint {
  if (value === undefined || value === null || value === '') return 0n;
  const text = String(value);
  if (!/^-?\d{1,20}$/.test(text)) throw invalidArgument(`${field}: ${quote(text)} is not an integer`);
  const n = BigInt(text);
  if (n < INT64_MIN || n > INT64_MAX) throw invalidArgument(`${field}: ${text} is out of the int64 range`);
  return n;
}

/** An int64 field that must lie in [min, max], as a JS number. */
export function boundedInt(value: string | number | null | undefined, field: string, min: number, max: number): number {
  const n = int64(value, field);
  if (n < BigInt(min) || n > BigInt(max)) throw invalidArgument(`${field}: ${n} is outside [${min}, ${max}]`);
  return Number(n);
}

/** A uid or gid: runc requires 0 ≤ id ≤ 2^31-1. */
export function linuxId(value: string | number | null | undefined, field: string): number {
  return boundedInt(value, field, 0, 2 ** 31 - 1);
}

/** An enum field's name, failing with the field's name for a value this proto does not define. */
export function enumValue<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  const name = value === undefined || value === null || value === '' ? allowed[0] : value;
  if (typeof name === 'string' && (allowed as readonly string[]).includes(name)) return name as T;
  throw invalidArgument(`${field}: unknown value ${quote(String(name))} (expected one of ${allowed.join(', ')})`);
}

/** A value for an error message: quoted, and cut short when a client sends something huge. */
export function quote(text: string): string {
  const shown = text.length > 128 ? `${text.slice(0, 128)}…(${text.length} chars)` : text;
  return JSON.stringify(shown);
}
