// Protobuf messages of the shim and events protocols, looked up by full name in one protobufjs Root
// (proto.ts's `shims` descriptor).
import protobuf from 'protobufjs';
import { encodeObject, loadRoot } from '../proto.ts';
import { internal } from '../errors.ts';
import { exactJson } from '../util/exact-json.ts';

/** Messages as plain data: field names as in the .proto, int64 as decimal strings, enums as names. */
export type Message = Record<string, unknown>;

let root: protobuf.Root | undefined;
/** Every shim call and event looks its types up; protobufjs walks the namespaces for each lookup. */
const types = new Map<string, protobuf.Type>();

export function lookupType(name: string): protobuf.Type {
  const known = types.get(name);
  if (known) return known;
  root ??= loadRoot('shims');
  try {
    const type = root.lookupType(name);
    types.set(name, type);
    return type;
  } catch (err) {
    throw internal(`protobuf message ${name} is not known`, err);
  }
}

export function hasType(name: string): boolean {
  root ??= loadRoot('shims');
  return root.lookup(name) instanceof protobuf.Type;
}

export function encodeMessage(typeName: string, value: object): Buffer {
  return encodeObject(lookupType(typeName), value);
}

/** `T` is the shape of `typeName` as decoded (every scalar present, absent messages null), as far as the caller reads it. */
export function decodeMessage<T extends object = Message>(typeName: string, bytes: Uint8Array): T {
  const type = lookupType(typeName);
  try {
    return type.toObject(type.decode(bytes), { longs: String, enums: String, defaults: true, bytes: Buffer }) as T;
  } catch (err) {
    throw internal(`cannot decode ${typeName} (${bytes.length} bytes): ${(err as Error).message}`, err);
  }
}

/** A google.protobuf.Any as plain data: the type URL and the serialized value. */
export interface AnyMessage {
  type_url: string;
  value: Buffer;
}

export function packAny(typeUrl: string, typeName: string, value: object): AnyMessage {
  return { type_url: typeUrl, value: encodeMessage(typeName, value) };
}

/** An Any whose value is JSON (OCI Process / LinuxResources as containerd sends them). */
export function jsonAny(typeUrl: string, value: unknown): AnyMessage {
  return { type_url: typeUrl, value: Buffer.from(exactJson(value)) };
}

/** Decodes an Any whose type URL is a known message name, with or without a type.googleapis.com/ prefix. */
export function unpackAny<T extends object = Message>(any: AnyMessage): T {
  return decodeMessage<T>(any.type_url.replace(/^.*\//, ''), any.value);
}

const NANOS_PER_SECOND = 1_000_000_000n;
/** seconds of 0001-01-01T00:00:00Z, Go's zero time: shims send it for "not set". */
const GO_ZERO_TIME_SECONDS = -62135596800n;

/** A google.protobuf.Timestamp as plain data. */
export interface Timestamp {
  seconds: string;
  nanos: number;
}

/** A decoded google.protobuf.Timestamp as decimal nanoseconds since the epoch; '0' when unset. */
export function timestampToNanos(ts: Timestamp | null | undefined): string {
  if (!ts) return '0';
  const seconds = BigInt(ts.seconds ?? 0);
  if (seconds <= GO_ZERO_TIME_SECONDS) return '0';
  return (seconds * NANOS_PER_SECOND + BigInt(ts.nanos ?? 0)).toString();
}

export function nanosToTimestamp(nanos: string | bigint): Timestamp {
  const ns = BigInt(nanos);
  return { seconds: (ns / NANOS_PER_SECOND).toString(), nanos: Number(ns % NANOS_PER_SECOND) };
}

export function nowTimestamp(): Timestamp {
  return nanosToTimestamp(BigInt(Date.now()) * 1_000_000n);
}
