// Every enum field of every CRI request, found from the .proto, and requests that set one of them:
// the table behind the tests of the edge's enum check.
import protobuf from 'protobufjs';
import { requestType } from '../../src/cri/request-values.ts';

const root = requestType('RuntimeService', 'Version').root as protobuf.Root;

export const RPCS: Array<{ service: string; rpc: string; stream: boolean }> = [
  'RuntimeService',
  'ImageService',
].flatMap((service) =>
  root
    .lookupService(`runtime.v1.${service}`)
    .methodsArray.map((m) => ({ service, rpc: m.name, stream: Boolean(m.responseStream) })),
);

/** A path step: the field name, and whether the field holds a list. */
export interface Step {
  name: string;
  repeated: boolean;
}

/** Paths to every enum field reachable in a message type. */
export function enumFieldPaths(type: protobuf.Type, at: Step[] = []): Step[][] {
  const out: Step[][] = [];
  for (const field of type.fieldsArray) {
    const step = { name: field.name, repeated: field.repeated };
    if (field.resolvedType instanceof protobuf.Enum) out.push([...at, step]);
    else if (field.resolvedType instanceof protobuf.Type && !field.map)
      out.push(...enumFieldPaths(field.resolvedType, [...at, step]));
  }
  return out;
}

export function pathName(path: Step[]): string {
  return path.map((s) => s.name).join('.');
}

/** Sets the field at path to value inside base (a copy), making the messages and lists on the way. */
export function requestWith(path: Step[], value: unknown, base: Record<string, unknown> = {}): Record<string, unknown> {
  const request = structuredClone(base);
  let node: Record<string, unknown> = request;
  for (const [i, step] of path.entries()) {
    const last = i === path.length - 1;
    const existing = node[step.name];
    if (step.repeated) {
      const list = Array.isArray(existing) && existing.length ? existing : [last ? value : {}];
      if (last) list[0] = value;
      node[step.name] = list;
      node = list[0] as Record<string, unknown>;
    } else if (last) {
      node[step.name] = value;
    } else {
      node[step.name] = existing && typeof existing === 'object' ? existing : {};
      node = node[step.name] as Record<string, unknown>;
    }
  }
  return request;
}
