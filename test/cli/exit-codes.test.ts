// Every crid command runs the same config validation and answers the same fault with the same exit
// status: 0 ok, 1 config or runtime fault, 2 usage.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { CRID } from '../helpers/crid-process.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'crid-exit-codes-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CRI = 'plugins."io.containerd.grpc.v1.cri"';
const good = path.join(tmp, 'good.toml');
writeFileSync(
  good,
  `version = 2\n[${CRI}.containerd.runtimes.runc]\n  runtime_type = "io.containerd.runc.v2"\n[crid]\n  state = "${tmp}/state"\n  root = "${tmp}/root"\n`,
);
const bad = path.join(tmp, 'bad.toml');
writeFileSync(
  bad,
  `version = 2\n[${CRI}]\n  stream_idle_timeout = "forever"\n[crid]\n  state = "${tmp}/state"\n  root = "${tmp}/root"\n  socket = "${tmp}/crid.sock"\n`,
);
const positioned = `${bad}:3:3: error: stream_idle_timeout: "forever" is not a duration such as "4h0m0s" or "30s"`;

const crid = (args: string[]) => execa(CRID, args, { reject: false, timeout: 60_000 });

describe('crid exit status', () => {
  it('a config error: every command that reads the config exits 1 with the same positioned error, serve before binding its socket', async () => {
    for (const args of [
      ['serve'],
      ['config', 'check'],
      ['config', 'reload'],
      ['explain'],
      ['check'],
      ['runtimeclass'],
      ['images', 'import', 'pause.tar'],
    ]) {
      const r = await crid([...args, '--config', bad]);
      expect({ args, code: r.exitCode }).toEqual({ args, code: 1 });
      expect(`${r.stdout}${r.stderr}`).toContain(positioned);
    }
  });

  it('an unknown handler is a usage error (2) in explain, check and runtimeclass', async () => {
    for (const command of ['explain', 'check', 'runtimeclass']) {
      const r = await crid([command, '--handler', 'nope', '--config', good]);
      expect({ command, code: r.exitCode }).toEqual({ command, code: 2 });
    }
  });

  it('a command that needs the daemon and cannot reach it exits 1 naming its socket', async () => {
    const archive = path.join(tmp, 'pause.tar');
    writeFileSync(archive, 'not read: no daemon');
    const r = await crid(['images', 'import', archive, '--config', good]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`crid images import: cannot reach the running crid at ${tmp}/state/control.sock`);
  });

  it('unknown flags and commands exit 2 in every command; --help documents the codes', async () => {
    for (const args of [
      ['serve', '--nope'],
      ['serve', '--log-level', 'verbose'],
      ['serve', '--socket', 'crid.sock'],
      ['config', 'check', '--nope'],
      ['explain', '--nope'],
      ['check', '--nope'],
      ['runtimeclass', '--nope'],
      ['images', 'import', '--nope', 'pause.tar'],
      ['images', 'export', 'pause.tar'],
      ['images', 'import'],
      ['publish', '--nope'],
      ['frobnicate'],
    ]) {
      const r = await crid(args);
      expect({ args, code: r.exitCode }).toEqual({ args, code: 2 });
    }
    const help = await crid(['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(
      /^Exit status, the same for every command:\n {2}0 {2}ok\n {2}1 {2}a config or runtime fault/m,
    );
  });
});
