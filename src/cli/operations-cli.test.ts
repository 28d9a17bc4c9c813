import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { parseAllDocuments } from 'yaml';
import { silentLogger } from '../log.ts';
import type { CheckResult } from '../handler-health/self-check.ts';
import {
  controlSocketPath,
  startControlServer,
  type ControlOperations,
  type ControlServer,
} from '../control/control-server.ts';
import { runCheckCommand } from './check.ts';
import { runRuntimeClassCommand } from './runtimeclass.ts';
import { runConfigCommand, type CliIO } from './config-command.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'crid-ops-cli-'));
let server: ControlServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CRI = 'plugins."io.containerd.grpc.v1.cri"';
const runcType = (name: string, options: string) =>
  `[${CRI}.containerd.runtimes.${name}]\n  runtime_type = "io.containerd.runc.v2"\n  [${CRI}.containerd.runtimes.${name}.options]\n${options}`;
const config = path.join(tmp, 'crid.toml');
writeFileSync(
  config,
  `version = 2
${runcType('runc', `    Root = "${tmp}/runc"\n`)}
${runcType('crun', `    BinaryName = "crun"\n    Root = "${tmp}/crun"\n`)}
${runcType('broken', '    BinaryName = "no-such-runtime"\n')}
${runcType('Bad_Name', `    Root = "${tmp}/bad"\n`)}
[crid]
  state = "${tmp}"
[crid.runtimeclass.runc]
  overhead_cpu = "100m"
  overhead_memory = "20Mi"
  tolerations = [{ key = "sandboxed", operator = "Exists", effect = "NoSchedule" }]
`,
);

async function run(command: (argv: string[], io: CliIO) => number | Promise<number>, argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
  const code = await command([...argv, '--config', config], { stdout, stderr, env });
  return { code, out: String(stdout.read() ?? ''), err: String(stderr.read() ?? '') };
}

describe('crid check', () => {
  it('checks every handler here; exit 1 when one fails, with its reason', async () => {
    const { code, out } = await run(runCheckCommand, []);
    expect(code).toBe(1);
    expect(out).toMatch(/^Bad_Name {2}ok {6}shim \/usr\/bin\/containerd-shim-runc-v2, runc version/m);
    expect(out).toMatch(/^broken {4}FAILED {2}OCI runtime "no-such-runtime" not found in PATH/m);
    expect(out).toMatch(/^crun {6}ok {6}shim .*crun version 1\.[\d.]+ \(\/usr\/bin\/crun\)$/m);
    expect(out).toMatch(/^runc {6}ok {6}.*\(\/usr\/sbin\/runc, features\)$/m);
  });

  it('--handler checks one; an unknown one exits 2 listing the handlers; --deep needs the daemon', async () => {
    expect(await run(runCheckCommand, ['--handler', 'runc'])).toMatchObject({ code: 0 });
    expect(await run(runCheckCommand, ['--handler', 'nope'])).toEqual({
      code: 2,
      out: '',
      err: 'crid check: unknown handler "nope" (configured handlers: Bad_Name, broken, crun, runc)\n',
    });
    const deep = await run(runCheckCommand, ['--deep', '--handler', 'runc']);
    expect(deep.code).toBe(1);
    expect(deep.err).toContain(`cannot reach the running crid at ${controlSocketPath(tmp)}`);
  });
});

describe('crid runtimeclass', () => {
  it('prints a RuntimeClass per working handler, skipping failing and invalid names with a message', async () => {
    const { code, out, err } = await run(runRuntimeClassCommand, []);
    expect(code).toBe(0);
    expect(err).toContain('skipping handler "Bad_Name": not a lowercase DNS-1123 label');
    expect(err).toContain('skipping handler "broken": OCI runtime "no-such-runtime" not found');
    const docs = parseAllDocuments(out).map((d) => d.toJS());
    expect(docs).toEqual([
      {
        apiVersion: 'node.k8s.io/v1',
        kind: 'RuntimeClass',
        metadata: { name: 'crun', labels: { 'app.kubernetes.io/managed-by': 'crid' } },
        handler: 'crun',
        scheduling: { nodeSelector: { 'runtime-handler.crid.io/crun': 'true' } },
      },
      {
        apiVersion: 'node.k8s.io/v1',
        kind: 'RuntimeClass',
        metadata: { name: 'runc', labels: { 'app.kubernetes.io/managed-by': 'crid' } },
        handler: 'runc',
        overhead: { podFixed: { cpu: '100m', memory: '20Mi' } },
        scheduling: {
          nodeSelector: { 'runtime-handler.crid.io/runc': 'true' },
          tolerations: [{ key: 'sandboxed', operator: 'Exists', effect: 'NoSchedule' }],
        },
      },
    ]);
  });

  it('--labels prints the labels and the kubectl line; an unknown --handler exits 2', async () => {
    const { code, out } = await run(runRuntimeClassCommand, ['--labels', '--node', 'node-1']);
    expect(code).toBe(0);
    expect(out).toBe(
      'runtime-handler.crid.io/crun=true\nruntime-handler.crid.io/runc=true\n\n' +
        'kubectl label node node-1 --overwrite runtime-handler.crid.io/crun=true runtime-handler.crid.io/runc=true\n',
    );
    expect((await run(runRuntimeClassCommand, ['--handler', 'kata'])).code).toBe(2);
  });

  it('with the daemon: its deep results count, and --measure proposes overhead with the raw figures as comments', async () => {
    const result = (handler: string, deepOk: boolean): CheckResult => ({
      handler,
      ok: true,
      reason: '',
      checkedAt: '',
      durationMs: 1,
      deep: {
        ok: deepOk,
        reason: deepOk ? '' : 'deep check: crun: hugetlb controller not found',
        seconds: 1,
        checkedAt: '',
      },
    });
    const MI = 1024 * 1024;
    const handlers: ControlOperations = {
      reload: async () => ({
        ok: true,
        diff: { added: ['kata'], removed: [], changed: [], settings: [], restartNeeded: [] },
        warnings: [],
      }),
      check: async () => [],
      health: () => [result('crun', false), result('runc', true), result('runc-v1', true)],
      importImages: async () => [],
      measure: async (handler, pods) =>
        handler === 'runc-v1'
          ? [{ handler, ok: false, reason: 'shim did not start', samples: [] }]
          : [
              {
                handler: handler!,
                ok: true,
                reason: '',
                samples: Array.from({ length: pods }, (_, i) => ({
                  shimBytes: (10 + i) * MI,
                  sandboxBytes: MI / 2,
                  memoryKind: 'pss' as const,
                  cpuSeconds: 0.02,
                  windowSeconds: 10,
                })),
              },
            ],
    };
    server = await startControlServer(controlSocketPath(tmp), handlers, silentLogger);
    const { code, out, err } = await run(runRuntimeClassCommand, ['--measure', '--pods', '2']);
    expect(code).toBe(0);
    expect(err).toContain('skipping handler "crun": deep check: crun: hugetlb controller not found');
    expect(err).toContain('skipping handler "runc-v1": measuring failed: shim did not start');
    expect(out).toContain(
      '# Measured by crid on 2 pause sandbox(es) of handler "runc":\n#   pod 1: shim 10.0 MiB PSS, sandbox 0.5 MiB PSS, cpu 2.00m over 10 s idle\n',
    );
    expect(out).toContain('# Measured by crid on 2 pause sandbox(es) of handler "runc":\n');
    const docs = parseAllDocuments(out).map((d) => d.toJS());
    expect(docs.map((d) => [d.handler, d.overhead.podFixed])).toEqual([['runc', { cpu: '3m', memory: '14Mi' }]]);

    const reload = await run(runConfigCommand, ['reload']);
    expect(reload).toEqual({ code: 0, out: 'handler added: kata\n', err: '' });
  });
});
