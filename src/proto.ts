// Loads the wire contracts in proto/ once. Options shared by every loader: field names as in the
// .proto files, int64 as decimal strings (CRI timestamps are ns and exceed 2^53), enums as names.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';

export const PROTO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../proto');

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

export const CRI_PROTO = 'k8s.io/cri-api/pkg/apis/runtime/v1/api.proto';

export function loadCri(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(CRI_PROTO, LOADER_OPTIONS);
}
