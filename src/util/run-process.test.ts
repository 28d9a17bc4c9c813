import { describe, expect, it } from 'vitest';
import { runProcess } from './run-process.ts';

describe('runProcess', () => {
  it('passes input and added environment, and returns output and exit code', async () => {
    const run = await runProcess('/bin/sh', ['-c', 'read line; echo "$line $CRID_TEST_VAR $HOME"; echo oops >&2; exit 3'], {
      input: 'hello\n',
      env: { CRID_TEST_VAR: 'added' },
    });
    expect(run).toEqual({ exitCode: 3, stdout: `hello added ${process.env.HOME}\n`, stderr: 'oops\n', timedOut: false });
  });

  it('kills a program past its timeout, with SIGKILL when it ignores SIGTERM', async () => {
    const run = await runProcess('/bin/sh', ['-c', "trap '' TERM; echo started; while :; do sleep 0.05; done"], { timeoutMs: 200, killAfterMs: 200 });
    expect(run.timedOut).toBe(true);
    expect(run.exitCode).toBeNull();
    expect(run.stdout).toBe('started\n');
  });

  it('says why a program could not be started', async () => {
    const run = await runProcess('/nonexistent/crid-test-binary', []);
    expect(run.exitCode).toBeNull();
    expect(run.stderr).toMatch(/cannot run \/nonexistent\/crid-test-binary: .*ENOENT/);
  });
});
