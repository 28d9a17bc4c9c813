// How an exec/attach ended, as the remotecommand protocols report it on the error stream:
// v4+ sends a metav1.Status as JSON, v1–v3 send the error text (nothing on success).
// Field order and omitted fields follow Go's encoding of metav1.Status.

export type Outcome =
  | { kind: 'success' }
  | { kind: 'exit'; exitCode: number; command: string[] }
  | { kind: 'error'; message: string };

interface StatusCause {
  reason?: string;
  message?: string;
}

export interface Status {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes: StatusCause[] };
  code?: number;
}

export const NON_ZERO_EXIT_CODE_REASON = 'NonZeroExitCode';
export const EXIT_CODE_CAUSE_TYPE = 'ExitCode';

export function outcomeStatus(outcome: Outcome): Status {
  switch (outcome.kind) {
    case 'success':
      return { metadata: {}, status: 'Success' };
    case 'exit':
      return {
        metadata: {},
        status: 'Failure',
        message: `command terminated with non-zero exit code: error executing command [${outcome.command.join(' ')}], exit code ${outcome.exitCode}`,
        reason: NON_ZERO_EXIT_CODE_REASON,
        details: { causes: [{ reason: EXIT_CODE_CAUSE_TYPE, message: String(outcome.exitCode) }] },
      };
    case 'error':
      return {
        metadata: {},
        status: 'Failure',
        message: `Internal error occurred: ${outcome.message}`,
        reason: 'InternalError',
        details: { causes: [{ message: outcome.message }] },
        code: 500,
      };
  }
}

/** The v4+ error-stream payload. */
export function statusJson(outcome: Outcome): string {
  return JSON.stringify(outcomeStatus(outcome));
}

/** The v1–v3 error-stream payload: the failure's message, or nothing on success. */
export function statusText(outcome: Outcome): string | undefined {
  return outcome.kind === 'success' ? undefined : outcomeStatus(outcome).message;
}
