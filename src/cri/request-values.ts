// The enum fields and port numbers of every CRI request, checked before a handler runs. The loader
// decodes enums as names, so a number outside the .proto's values arrives as a number; it is refused
// here, once, for every request type, instead of surfacing later as a type error in whatever code
// reads the field (or as a CNI or stream failure, for a port out of range).
import protobuf from 'protobufjs';
import { internal, invalidArgument } from '../errors.ts';
import { criRoot } from '../proto.ts';
import { quote } from '../oci/cri-values.ts';
import type { StreamHandler, UnaryHandler } from '../server/rpc.ts';

const PACKAGE = 'runtime.v1';

/** Integer fields with a range narrower than their protobuf type, by `Message.field`. */
const RANGES: Record<string, [min: number, max: number]> = {
  'PortMapping.container_port': [0, 65535],
  'PortMapping.host_port': [0, 65535],
  'PortForwardRequest.port': [1, 65535],
};

/** The request message type of one RPC, e.g. ('RuntimeService', 'CreateContainer'). */
export function requestType(service: string, rpc: string): protobuf.Type {
  const method = criRoot().lookupService(`${PACKAGE}.${service}`).methods[rpc];
  if (!method?.resolvedRequestType) throw internal(`${service}/${rpc} is not a CRI call`);
  return method.resolvedRequestType;
}

/** Throws InvalidArgument naming the first field whose value is not one of its enum's names or out of its range. */
export function checkValues(type: protobuf.Type, message: unknown, at = ''): void {
  if (message === null || typeof message !== 'object') return;
  const fields = message as Record<string, unknown>;
  for (const field of type.fieldsArray) {
    const value = fields[field.name];
    if (value === null || value === undefined) continue;
    const name = at ? `${at}.${field.name}` : field.name;
    const items = field.map ? Object.values(value as object) : field.repeated && Array.isArray(value) ? value : [value];
    const range = RANGES[`${type.name}.${field.name}`];
    for (const item of items) {
      if (range) checkRange(range, item, name);
      checkValue(field.resolvedType, item, name);
    }
  }
}

function checkValue(resolved: protobuf.Type | protobuf.Enum | null, value: unknown, name: string): void {
  if (resolved instanceof protobuf.Type) {
    checkValues(resolved, value, name);
    return;
  }
  if (!(resolved instanceof protobuf.Enum)) return;
  if (typeof value === 'string' && Object.hasOwn(resolved.values, value)) return;
  const expected = Object.keys(resolved.values).join(', ');
  throw invalidArgument(
    `${name}: ${quote(String(value))} is not a value of ${resolved.name} (expected one of ${expected})`,
  );
}

function checkRange([min, max]: [number, number], value: unknown, name: string): void {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw invalidArgument(`${name}: ${quote(String(value))} is out of range [${min}, ${max}]`);
}

/** The handler of one RPC behind the check of its request. */
export function withCheckedValues(
  service: string,
  rpc: string,
  handler: UnaryHandler | StreamHandler,
): UnaryHandler | StreamHandler {
  const type = requestType(service, rpc);
  const checked = (request: unknown, ...rest: unknown[]) => {
    checkValues(type, request);
    return (handler as (request: unknown, ...rest: unknown[]) => Promise<unknown>)(request, ...rest);
  };
  return checked;
}
