// Typed errors. Code below the server never imports gRPC: it throws one of these, and
// src/server/status.ts turns it into a gRPC status in exactly one place.

export type ErrorKind =
  | 'InvalidArgument'
  | 'NotFound'
  | 'AlreadyExists'
  | 'FailedPrecondition'
  | 'Unavailable'
  | 'Unimplemented'
  | 'DeadlineExceeded'
  | 'ResourceExhausted'
  | 'Canceled'
  | 'Internal';

export class CridError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = kind;
  }
}

const make = (kind: ErrorKind) => (message: string, cause?: unknown) =>
  new CridError(kind, message, cause === undefined ? undefined : { cause });

export const invalidArgument = make('InvalidArgument');
export const notFound = make('NotFound');
export const alreadyExists = make('AlreadyExists');
export const failedPrecondition = make('FailedPrecondition');
export const unavailable = make('Unavailable');
export const unimplemented = make('Unimplemented');
export const deadlineExceeded = make('DeadlineExceeded');
export const resourceExhausted = make('ResourceExhausted');
export const canceled = make('Canceled');
export const internal = make('Internal');

export function isKind(err: unknown, kind: ErrorKind): boolean {
  return err instanceof CridError && err.kind === kind;
}

// gRPC numbering, shared by gRPC and ttrpc (google.rpc.Status.code).
const KIND_BY_CODE: Record<number, ErrorKind> = {
  1: 'Canceled',
  3: 'InvalidArgument',
  4: 'DeadlineExceeded',
  5: 'NotFound',
  6: 'AlreadyExists',
  8: 'ResourceExhausted',
  9: 'FailedPrecondition',
  12: 'Unimplemented',
  14: 'Unavailable',
};

export const CODE_BY_KIND: Record<ErrorKind, number> = {
  Canceled: 1,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Unimplemented: 12,
  Unavailable: 14,
  Internal: 13,
};

/** An error from a peer's status code (ttrpc shims answer with gRPC numbering). */
export function errorFromStatus(code: number, message: string): CridError {
  return new CridError(KIND_BY_CODE[code] ?? 'Internal', message);
}

/** Prefixes context to an error, keeping its kind ("failed to start shim: …"). */
export function wrap(err: unknown, context: string): CridError {
  const message = `${context}: ${err instanceof Error ? err.message : String(err)}`;
  return new CridError(err instanceof CridError ? err.kind : 'Internal', message, { cause: err });
}
