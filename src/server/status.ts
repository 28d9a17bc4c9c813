// The one place where crid's typed errors become gRPC statuses.
import { status as Status, type ServiceError, Metadata } from '@grpc/grpc-js';
import { CridError, CODE_BY_KIND } from '../errors.ts';

/**
 * Messages quote what the client sent; a huge field must not become a huge grpc-message header,
 * which HTTP/2 peers refuse by tearing down the whole connection.
 */
const MAX_DETAILS = 4096;

function clip(message: string): string {
  return message.length <= MAX_DETAILS
    ? message
    : `${message.slice(0, MAX_DETAILS)}… (${message.length - MAX_DETAILS} more characters)`;
}

export function toServiceError(err: unknown): Partial<ServiceError> {
  if (err instanceof CridError) {
    return { code: CODE_BY_KIND[err.kind] as Status, details: clip(err.message), metadata: new Metadata() };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: Status.UNKNOWN, details: clip(message), metadata: new Metadata() };
}
