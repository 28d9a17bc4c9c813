import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from './load.ts';
import { formatDiagnostic } from './diagnostics.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'crid-base-spec-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const RT = 'plugins."io.containerd.grpc.v1.cri".containerd.runtimes';

function check(baseSpec: string, content?: string): string[] {
  const specFile = path.join(tmp, baseSpec);
  if (content !== undefined) writeFileSync(specFile, content);
  const file = path.join(tmp, 'config.toml');
  writeFileSync(
    file,
    `version = 2\n[${RT}.runc]\n  runtime_type = "io.containerd.runc.v2"\n  base_runtime_spec = "${specFile}"\n`,
  );
  return loadConfig(file, { restrictOomScoreAdjDefault: false })
    .diagnostics.filter((d) => d.message.includes('base_runtime_spec'))
    .map(formatDiagnostic);
}

describe('base_runtime_spec in the config', () => {
  it('accepts a readable OCI spec', () => {
    expect(check('good.json', '{"ociVersion":"1.0.2","process":{"env":["A=1"],"rlimits":[]}}')).toEqual([]);
  });

  it('is an error at its key when the file is missing', () => {
    const lines = check('missing.json');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /config\.toml:4:3: error: base_runtime_spec ".*missing\.json" of handler "runc": cannot be read: ENOENT/,
    );
  });

  it('is an error at its key when the file is not a spec', () => {
    expect(check('broken.json', '{"process": ')[0]).toMatch(/config\.toml:4:3: error: .* not valid JSON/);
    expect(check('array.json', '[]')[0]).toMatch(/not a JSON object/);
    expect(check('env.json', '{"process":{"env":"A=1"}}')[0]).toMatch(/"process\.env" is not an array of strings/);
  });
});
