import { describe, expect, it } from 'vitest';
import { runCommand, tryCommand } from './command.ts';

describe('tryCommand', () => {
  it('passes input and added environment, and returns output and exit status', async () => {
    const run = await tryCommand(
      '/bin/sh',
      ['-c', 'read line; echo "$line $CRID_TEST_VAR $HOME"; echo oops >&2; exit 3'],
      {
        input: 'hello\n',
        env: { CRID_TEST_VAR: 'added' },
      },
    );
    expect(run).toMatchObject({
      exitCode: 3,
      stdout: `hello added ${process.env.HOME}\n`,
      stderr: 'oops\n',
      timedOut: false,
      failed: true,
    });
    expect(run.message).toBe(
      `/bin/sh -c read line; echo "$line $CRID_TEST_VAR $HOME"; echo oops >&2; exit 3 exited with status 3: oops`,
    );
  });

  it('kills a program past its timeout, with SIGKILL when it ignores SIGTERM', async () => {
    const run = await tryCommand('/bin/sh', ['-c', "trap '' TERM; echo started; while :; do sleep 0.05; done"], {
      timeoutMs: 300,
    });
    expect(run).toMatchObject({ timedOut: true, failed: true, exitCode: undefined, stdout: 'started\n' });
    expect(run.message).toMatch(/ timed out$/);
  });

  it('says why a program could not be started', async () => {
    const run = await tryCommand('/nonexistent/crid-test-binary', []);
    expect(run).toMatchObject({ exitCode: undefined, failed: true });
    expect(run.message).toMatch(/^\/nonexistent\/crid-test-binary failed: .*ENOENT/);
  });

  it('gives stdin /dev/null when there is no input', async () => {
    expect((await runCommand('/bin/sh', ['-c', 'cat; echo end'])).stdout).toBe('end\n');
  });
});

describe('runCommand', () => {
  it('rejects with the command, its status and its stderr', async () => {
    await expect(runCommand('/bin/sh', ['-c', 'echo broken >&2; exit 2'])).rejects.toThrow(
      /exited with status 2: broken$/,
    );
  });
});

describe('tryCommand output', () => {
  it('kills a program that prints without end, and says so', async () => {
    const run = await tryCommand('/bin/sh', ['-c', 'exec yes crid'], { timeoutMs: 30_000 });
    expect(run).toMatchObject({ failed: true, timedOut: false, exitCode: undefined });
    expect(run.stdout.length).toBeLessThanOrEqual(16 << 20);
    expect(run.message).toMatch(/printed more than 16777216 bytes$/);
  });

  it('ends when the program exits, though a child of it still holds its output open', async () => {
    const run = await tryCommand('/bin/sh', ['-c', 'sleep 60 & echo $!']);
    expect(run).toMatchObject({ exitCode: 0, failed: false });
    const holder = Number(run.stdout);
    // Still running, so the result did not wait for it.
    expect(() => process.kill(holder, 0)).not.toThrow();
    process.kill(holder, 'SIGKILL');
  });

  it('is not failed by a program that exits without reading its input', async () => {
    const run = await tryCommand('/bin/true', [], { input: 'x'.repeat(1 << 20) });
    expect(run).toMatchObject({ exitCode: 0, failed: false, message: '' });
  });
});
