// bigint fields (OCI int64 quantities) made JSON.stringify-able as exact integers.

// JSON.rawJSON (V8 ≥ 11.4, Node ≥ 21) is not yet in TypeScript's es2024 lib.
const rawJson = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/** A deep copy where every bigint is a raw JSON number, so JSON.stringify writes it exactly. */
export function exactJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return rawJson(value.toString());
  if (Array.isArray(value)) return value.map(exactJsonValue);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, exactJsonValue(v)]));
  }
  return value;
}
