import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { runExplainCommand } from './explain.ts';

const machine = path.resolve(import.meta.dirname, '../../test/config/node-all-handlers.toml');
const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };

function run(argv: string[]): { code: number; out: string; err: string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const code = runExplainCommand(argv, { stdout, stderr, env });
  return { code, out: String(stdout.read() ?? ''), err: String(stderr.read() ?? '') };
}

describe('crid explain', () => {
  it('crun on the test machine config: the runc v2 shim that exists here, and its options', () => {
    const { code, out } = run(['--handler', 'crun', '--config', machine]);
    expect(code).toBe(0);
    expect(out).toMatch(/^shim binary:\s+\/usr\/bin\/containerd-shim-runc-v2 \(exists\)$/m);
    expect(out).toMatch(/^shim kind:\s+v2$/m);
    expect(out).toMatch(
      /^options:\s+containerd\.runc\.v1\.Options \{"binary_name":"crun","root":"\/run\/crid\/crun"\}$/m,
    );
    expect(out).toMatch(/^CNI conf dir:\s+\/etc\/cni\/net\.d \(global\)$/m);
    expect(out).toMatch(/^cgroup driver:\s+cgroupfs$/m);
    expect(out).toMatch(
      /^AppArmor RuntimeDefault:\s+(unconfined \(AppArmor is not enabled on this host\)|profile crid\.apparmor\.d \(loaded by crid on first use\))$/m,
    );
  });

  it('runc-v1 uses the legacy shim with RuncOptions built from runtime_engine/runtime_root', () => {
    const { out } = run(['--handler', 'runc-v1', '--config', machine]);
    expect(out).toMatch(/^shim binary:\s+\/usr\/bin\/containerd-shim \(exists\)$/m);
    expect(out).toMatch(/^shim kind:\s+v1/m);
    expect(out).toMatch(
      /containerd\.linux\.runc\.RuncOptions \{"runtime":"runc","runtime_root":"\/run\/crid\/runc-v1"\}/,
    );
  });

  it('kata: says the shim is missing (exit 1), shows the annotation allow-list', () => {
    const { code, out } = run(['--handler', 'kata', '--config', machine]);
    expect(code).toBe(1);
    expect(out).toContain(
      'runtime "io.containerd.kata.v2" binary not installed "containerd-shim-kata-v2": file does not exist',
    );
    expect(out).toMatch(/^pod annotations:\s+io\.katacontainers\.\*$/m);
  });

  it('no handler means the default; an unknown handler exits 2 naming the configured ones', () => {
    expect(run(['--config', machine]).out).toMatch(/^handler:\s+runc \(the default handler\)$/m);
    const { code, err } = run(['--handler', 'nope', '--config', machine]);
    expect(code).toBe(2);
    expect(err).toBe(
      'crid explain: no runtime for "nope" is configured (configured handlers: crun, kata, runc, runc-v1; default: runc)\n',
    );
  });

  it('--help', () => {
    expect(run(['--help'])).toMatchObject({ code: 0, out: expect.stringContaining('Usage: crid explain') });
  });
});
