// JSON with OCI's int64 quantities (bigint in crid) written as exact integers.

// JSON.rawJSON (V8 ≥ 11.4, Node ≥ 21) is not yet in TypeScript's es2024 lib.
const rawJson = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

export function exactJson(value: unknown, space?: number): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? rawJson(v.toString()) : v), space);
}
