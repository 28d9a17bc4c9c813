import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from './load.ts';
import { formatDiagnostic } from './diagnostics.ts';
import { isQuantity, tolerationProblems } from './runtimeclass-settings.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'crid-runtimeclass-settings-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function load(text: string) {
  const file = path.join(tmp, `c${Math.random().toString(36).slice(2)}.toml`);
  writeFileSync(file, `version = 2\n${text}`);
  return { file, result: loadConfig(file, { restrictOomScoreAdjDefault: false }) };
}

describe('[crid.runtimeclass.<handler>]', () => {
  it('loads overhead and tolerations into the model', () => {
    const { result } = load(
      '[crid.runtimeclass.runc]\n  overhead_cpu = "250m"\n  overhead_memory = "160Mi"\n' +
        '  tolerations = [{ key = "sandboxed", operator = "Exists", effect = "NoSchedule" }, { key = "k", value = "v", effect = "NoExecute", tolerationSeconds = 30 }]\n',
    );
    expect(result.diagnostics).toEqual([]);
    expect(result.config!.crid.runtimeclass).toEqual({
      runc: {
        overhead_cpu: '250m',
        overhead_memory: '160Mi',
        tolerations: [
          { key: 'sandboxed', operator: 'Exists', effect: 'NoSchedule' },
          { key: 'k', value: 'v', effect: 'NoExecute', tolerationSeconds: 30 },
        ],
      },
    });
  });

  it('reports bad quantities, bad tolerations and unknown handlers at their keys', () => {
    const { file, result } = load(
      '[crid.runtimeclass.gpu]\n  overhead_cpu = "a lot"\n  tolerations = [{ operator = "Maybe" }]\n',
    );
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      `${file}:2:1: warning: [crid.runtimeclass.gpu] names no configured handler (handlers: runc) [crid.runtimeclass.gpu]`,
      `${file}:3:3: error: overhead_cpu "a lot" is not a Kubernetes quantity (e.g. "250m") [crid.runtimeclass.gpu.overhead_cpu]`,
      `${file}:4:3: error: tolerations[0]: toleration operator must be Equal or Exists, got "Maybe" [crid.runtimeclass.gpu.tolerations]`,
      `${file}:4:3: error: tolerations[0]: a toleration without a key must have operator Exists [crid.runtimeclass.gpu.tolerations]`,
    ]);
  });

  it('a non-array tolerations is a type error', () => {
    const { result } = load('[crid.runtimeclass.runc]\n  tolerations = "all"\n');
    expect(result.diagnostics.map((d) => d.message)).toEqual([
      'wrong type: expected an array of tolerations, got a string ("all")',
    ]);
  });

  it('metrics_address must be host:port or ""', () => {
    expect(load('[crid]\n  metrics_address = ""\n').result.diagnostics).toEqual([]);
    expect(load('[crid]\n  metrics_address = "[::1]:9149"\n').result.diagnostics).toEqual([]);
    expect(load('[crid]\n  metrics_address = "9149"\n').result.diagnostics.map((d) => d.message)).toEqual([
      'invalid metrics_address "9149": expected host:port (e.g. 127.0.0.1:9149), or "" to turn metrics off',
    ]);
  });
});

describe('quantities and tolerations', () => {
  it('accepts what the API server accepts', () => {
    for (const q of ['250m', '1', '0.5', '160Mi', '1Gi', '1e3', '128974848', '129M'])
      expect(isQuantity(q), q).toBe(true);
    for (const q of ['', '-1', '1 Mi', '1mi', 'lots', '1.2.3']) expect(isQuantity(q), q).toBe(false);
  });

  it('tolerations: Exists takes no value, seconds only with NoExecute, unknown keys named', () => {
    expect(tolerationProblems({ operator: 'Exists' })).toEqual([]);
    expect(tolerationProblems({ key: 'a', operator: 'Exists', value: 'b' })).toEqual([
      'toleration value must be empty when operator is Exists',
    ]);
    expect(tolerationProblems({ key: 'a', effect: 'NoSchedule', tolerationSeconds: 5 })).toEqual([
      'toleration tolerationSeconds only applies to effect NoExecute',
    ]);
    expect(tolerationProblems({ key: 'a', Effect: 'NoSchedule' })[0]).toMatch(/^unknown toleration key "Effect"/);
    expect(tolerationProblems('x')).toEqual(['a toleration must be a table']);
  });
});
