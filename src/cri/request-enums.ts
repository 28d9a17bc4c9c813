// Every enum field of every CRI request, checked before a handler runs. The loader decodes enums as
// names, so a number outside the .proto's values arrives as a number; it is refused here, once, for
// every request type, instead of surfacing later as a type error in whatever code reads the field.
import path from 'node:path';
import protobuf from 'protobufjs';
import { invalidArgument } from '../errors.ts';
import { CRI_PROTO, PROTO_DIR } from '../proto.ts';
import { quote } from '../oci/cri-values.ts';
import type { StreamHandler, UnaryHandler } from '../server/rpc.ts';

const PACKAGE = 'runtime.v1';

let root: protobuf.Root | undefined;

function criRoot(): protobuf.Root {
  if (root) return root;
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : path.join(PROTO_DIR, target));
  r.loadSync(CRI_PROTO, { keepCase: true });
  r.resolveAll();
  root = r;
  return r;
}

/** The request message type of one RPC, e.g. ('RuntimeService', 'CreateContainer'). */
export function requestType(service: string, rpc: string): protobuf.Type {
  const method = criRoot().lookupService(`${PACKAGE}.${service}`).methods[rpc];
  if (!method?.resolvedRequestType) throw invalidArgument(`${service}/${rpc} is not a CRI call`);
  return method.resolvedRequestType;
}

/** Throws InvalidArgument naming the first enum field whose value is not one of its enum's names. */
export function checkEnums(type: protobuf.Type, message: unknown, at = ''): void {
  if (message === null || typeof message !== 'object') return;
  const fields = message as Record<string, unknown>;
  for (const field of type.fieldsArray) {
    const value = fields[field.name];
    if (value === null || value === undefined) continue;
    const name = at ? `${at}.${field.name}` : field.name;
    const items = field.map ? Object.values(value as object) : field.repeated && Array.isArray(value) ? value : [value];
    for (const item of items) checkValue(field.resolvedType, item, name);
  }
}

function checkValue(resolved: protobuf.Type | protobuf.Enum | null, value: unknown, name: string): void {
  if (resolved instanceof protobuf.Type) return checkEnums(resolved, value, name);
  if (!(resolved instanceof protobuf.Enum)) return;
  if (typeof value === 'string' && Object.hasOwn(resolved.values, value)) return;
  const expected = Object.keys(resolved.values).join(', ');
  throw invalidArgument(`${name}: ${quote(String(value))} is not a value of ${resolved.name} (expected one of ${expected})`);
}

/** The handler of one RPC behind the enum check of its request. */
export function withCheckedEnums<H extends UnaryHandler | StreamHandler>(service: string, rpc: string, handler: H): H {
  const type = requestType(service, rpc);
  const checked = (request: unknown, ...rest: unknown[]) => {
    checkEnums(type, request);
    return (handler as (request: unknown, ...rest: unknown[]) => Promise<unknown>)(request, ...rest);
  };
  return checked as H;
}
