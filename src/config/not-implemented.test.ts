import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from './load.ts';
import { formatDiagnostic } from './diagnostics.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'crid-not-implemented-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function warnings(text: string): string[] {
  const file = path.join(tmp, 'config.toml');
  writeFileSync(file, text);
  return loadConfig(file, { restrictOomScoreAdjDefault: false })
    .diagnostics.filter((d) => d.message.startsWith('crid does not implement'))
    .map((d) => formatDiagnostic(d).replace(`${file}:`, ''));
}

const CRI = 'plugins."io.containerd.grpc.v1.cri"';

describe('containerd settings crid does not implement', () => {
  // (A snapshotter other than overlayfs is an error of its own, in validate.ts.)
  it('are warned about at their key when set to anything but what crid does anyway', () => {
    const text = `version = 2
[${CRI}]
  enable_selinux = true
  disable_apparmor = true
  stats_collect_period = 10
[${CRI}.containerd]
  snapshotter = "overlayfs"
[${CRI}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
  sandbox_mode = "shim"
  snapshotter = "overlayfs"
`;
    expect(warnings(text)).toEqual([
      '3:3: warning: crid does not implement `enable_selinux`: this setting has no effect (crid does not label containers for SELinux; a pod asking for SELinux labels on an SELinux host is refused) [plugins."io.containerd.grpc.v1.cri".enable_selinux]',
      '4:3: warning: crid does not implement `disable_apparmor`: this setting has no effect [plugins."io.containerd.grpc.v1.cri".disable_apparmor]',
      '10:3: warning: crid does not implement `sandbox_mode`: this setting has no effect (crid runs every pod sandbox as a pause container (podsandbox)) [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.sandbox_mode]',
    ]);
  });

  it("say nothing about containerd's own default config", () => {
    const fixture = path.resolve(import.meta.dirname, '../../test/config/fixtures/containerd-1.6-default.toml');
    expect(warnings(readFileSync(fixture, 'utf8'))).toEqual([]);
  });
});
