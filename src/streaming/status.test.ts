import { describe, expect, it } from 'vitest';
import { statusJson, statusText } from './status.ts';

describe('remotecommand status', () => {
  it('encodes success as kubelet does', () => {
    expect(statusJson({ kind: 'success' })).toBe('{"metadata":{},"status":"Success"}');
    expect(statusText({ kind: 'success' })).toBeUndefined();
  });

  it('encodes a non-zero exit with the code as the ExitCode cause', () => {
    const json = statusJson({ kind: 'exit', exitCode: 3, command: ['sh', '-c', 'exit 3'] });
    expect(json).toBe(
      '{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}',
    );
    expect(statusText({ kind: 'exit', exitCode: 3, command: ['false'] })).toBe(
      'command terminated with non-zero exit code: error executing command [false], exit code 3',
    );
  });

  it('encodes runtime errors as an InternalError with code 500', () => {
    expect(JSON.parse(statusJson({ kind: 'error', message: 'container c1 is not running' }))).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'Internal error occurred: container c1 is not running',
      reason: 'InternalError',
      details: { causes: [{ message: 'container c1 is not running' }] },
      code: 500,
    });
  });
});
