// The wire contracts in proto/, loaded from the descriptors `npm run gen:descriptors` writes to
// proto/descriptors/ (parsing the .proto text took ~100 ms of every start). Messages are read as
// @grpc/proto-loader reads them with CRI_OBJECT_OPTIONS: field names as in the .proto files, int64
// as decimal strings (CRI timestamps are ns and exceed 2^53), enums as names, defaults filled in.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

export const PROTO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../proto');

export const CRI_OBJECT_OPTIONS: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/**
 * A message given as plain data, encoded. protobufjs writes into a Buffer under Node; only another
 * Uint8Array needs copying into one.
 */
export function encodeObject(type: protobuf.Type, value: object): Buffer {
  const bytes = type.encode(type.fromObject(value)).finish();
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
}

/** Each descriptor and the .proto files it is made from. */
export const DESCRIPTORS = {
  cri: ['k8s.io/cri-api/pkg/apis/runtime/v1/api.proto'],
  shims: [
    'github.com/containerd/ttrpc/request.proto',
    'github.com/containerd/containerd/runtime/v2/task/shim.proto',
    'github.com/containerd/containerd/api/runtime/task/v3/shim.proto',
    'github.com/containerd/containerd/runtime/v1/shim/v1/shim.proto',
    'github.com/containerd/containerd/runtime/linux/runctypes/runc.proto',
    'github.com/containerd/containerd/runtime/v2/runc/options/oci.proto',
    'github.com/containerd/containerd/pkg/runtimeoptions/v1/api.proto',
    'github.com/containerd/containerd/api/events/task.proto',
    'github.com/containerd/containerd/api/services/ttrpc/events/v1/events.proto',
    'github.com/containerd/containerd/api/runtime/bootstrap/v1/bootstrap.proto',
    'github.com/containerd/cgroups/stats/v1/metrics.proto',
    'github.com/containerd/cgroups/v2/stats/metrics.proto',
  ],
} as const;

export type DescriptorName = keyof typeof DESCRIPTORS;

export function descriptorFile(name: DescriptorName): string {
  return path.join(PROTO_DIR, 'descriptors', `${name}.json`);
}

/** Parses a descriptor's .proto files (google/protobuf/* from protobufjs' bundled definitions). */
export function parseProtos(name: DescriptorName): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) =>
    target.startsWith('google/protobuf/') ? target : path.join(PROTO_DIR, target);
  root.loadSync([...DESCRIPTORS[name]], { keepCase: true });
  root.resolveAll();
  return root;
}

function readDescriptor(name: DescriptorName): protobuf.INamespace {
  return JSON.parse(fs.readFileSync(descriptorFile(name), 'utf8')) as protobuf.INamespace;
}

/** A protobufjs Root of one descriptor, resolved. */
export function loadRoot(name: DescriptorName): protobuf.Root {
  const root = protobuf.Root.fromJSON(readDescriptor(name));
  root.resolveAll();
  return root;
}

let cri: protobuf.Root | undefined;

/** The CRI's Root, loaded once for the gRPC services and the request checks. */
export function criRoot(): protobuf.Root {
  cri ??= loadRoot('cri');
  return cri;
}
