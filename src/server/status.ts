// The one place where crid's typed errors become gRPC statuses.
import { status as Status, type ServiceError, Metadata } from '@grpc/grpc-js';
import { CridError, CODE_BY_KIND } from '../errors.ts';

export function toServiceError(err: unknown): Partial<ServiceError> {
  if (err instanceof CridError) {
    return { code: CODE_BY_KIND[err.kind] as Status, details: err.message, metadata: new Metadata() };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: Status.UNKNOWN, details: message, metadata: new Metadata() };
}
