import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from './load.ts';
import { formatDiagnostic } from './diagnostics.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'crid-config-validate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let count = 0;
/** Diagnostics of a config text, formatted, with the temp file name replaced by `F`. */
function check(text: string): string[] {
  const file = path.join(tmp, `c${count++}.toml`);
  writeFileSync(file, text);
  return loadConfig(file, { restrictOomScoreAdjDefault: true }).diagnostics.map((d) =>
    formatDiagnostic(d).replace(file, 'F'),
  );
}

const CRI = 'plugins."io.containerd.grpc.v1.cri"';
const RT = `${CRI}.containerd.runtimes`;

describe('errors with positions', () => {
  it('malformed TOML reports its line and column', () => {
    const [d, ...rest] = check('version = 2\n[crid]\nsocket = = "x"\n');
    expect(rest).toEqual([]);
    expect(d).toMatch(/^F:3:10: error: malformed TOML: Unexpected character/);
  });

  it('a value of the wrong type', () => {
    expect(
      check(`version = 2\n[${CRI}.cni]\n  max_conf_num = "3"\n  bin_dirs = "/x"\n[crid]\n  deep_check_on_start = 1\n`),
    ).toEqual([
      `F:3:3: error: wrong type: expected an integer, got a string ("3") [${CRI}.cni.max_conf_num]`,
      `F:4:3: error: wrong type: expected an array of strings, got a string ("/x") [${CRI}.cni.bin_dirs]`,
      'F:6:3: error: wrong type: expected a boolean, got a number (1) [crid.deep_check_on_start]',
    ]);
  });

  it('an unknown default_runtime_name, in containerd words', () => {
    expect(
      check(
        `version = 2\n[${CRI}.containerd]\n  default_runtime_name = "nope"\n[${RT}.runc]\n  runtime_type = "io.containerd.runc.v2"\n`,
      ),
    ).toEqual([
      `F:3:3: error: no corresponding runtime configured in \`containerd.runtimes\` for \`containerd\` \`default_runtime_name = "nope"\` [${CRI}.containerd.default_runtime_name]`,
    ]);
  });

  it('TLS streaming without a key pair', () => {
    expect(
      check(
        `version = 2\n[${CRI}]\n  enable_tls_streaming = true\n[${RT}.runc]\n  runtime_type = "io.containerd.runc.v2"\n`,
      ),
    ).toEqual([
      `F:3:3: error: enable_tls_streaming needs x509_key_pair_streaming.tls_cert_file and tls_key_file (crid does not generate a self-signed certificate) [${CRI}.enable_tls_streaming]`,
    ]);
    const pair = `[${CRI}.x509_key_pair_streaming]\n  tls_cert_file = "/c.pem"\n  tls_key_file = "/k.pem"\n`;
    expect(
      check(
        `version = 2\n[${CRI}]\n  enable_tls_streaming = true\n${pair}[${RT}.runc]\n  runtime_type = "io.containerd.runc.v2"\n`,
      ),
    ).toEqual([]);
  });

  it('an empty default_runtime_name', () => {
    expect(check(`version = 2\n[${CRI}.containerd]\n  default_runtime_name = ""\n`)).toEqual([
      `F:3:3: error: \`default_runtime_name\` is empty [${CRI}.containerd.default_runtime_name]`,
    ]);
  });

  it('a handler without runtime_type points at its table', () => {
    expect(
      check(
        `version = 2\n[${RT}.runc]\n  runtime_type = "io.containerd.runc.v2"\n\n  [${RT}.empty]\n    pod_annotations = []\n`,
      ),
    ).toEqual([`F:5:3: error: runtime handler "empty" has no runtime_type [${RT}.empty]`]);
  });

  it('a runtime_type of an unknown form', () => {
    expect(check(`version = 2\n[${RT}.runc]\n  runtime_type = "runc"\n`)).toEqual([
      `F:3:3: error: invalid runtime_type "runc" for handler "runc": expected a dotted name like io.containerd.runc.v2 or an absolute shim path [${RT}.runc.runtime_type]`,
    ]);
    expect(check(`version = 2\n[${RT}.runc]\n  runtime_type = "/usr/bin/containerd-shim-runc-v2"\n`)).toEqual([]);
  });

  it('runtime_engine / runtime_root on a non-v1 runtime', () => {
    expect(
      check(`version = 2\n[${RT}.runc]\n  runtime_type = "io.containerd.runc.v2"\n  runtime_root = "/r"\n`),
    ).toEqual([
      `F:4:3: warning: \`runtime_root\` is deprecated, please use runtime \`options\` instead [${RT}.runc.runtime_root]`,
      `F:4:3: error: \`runtime_root\` only works for runtime io.containerd.runtime.v1.linux [${RT}.runc.runtime_root]`,
    ]);
  });

  it('untrusted_workload_runtime together with runtimes.untrusted (version 1)', () => {
    const text = `version = 1\n[plugins.cri.containerd.runtimes.runc]\n  runtime_type = "io.containerd.runc.v2"\n[plugins.cri.containerd.runtimes.untrusted]\n  runtime_type = "io.containerd.kata.v2"\n[plugins.cri.containerd.untrusted_workload_runtime]\n  runtime_type = "io.containerd.kata.v2"\n`;
    expect(check(text).filter((d) => d.includes('error'))).toEqual([
      'F:6:1: error: conflicting definitions: configuration includes both `untrusted_workload_runtime` and `runtimes["untrusted"]` [plugins.cri.containerd.untrusted_workload_runtime]',
    ]);
  });

  it('an options value of the wrong type', () => {
    expect(
      check(
        `version = 2\n[${RT}.runc]\n  runtime_type = "io.containerd.runc.v2"\n  options = { SystemdCgroup = "yes" }\n`,
      ),
    ).toEqual([
      `F:4:15: error: wrong type: expected a boolean, got a string ("yes") [${RT}.runc.options.SystemdCgroup]`,
    ]);
  });

  it('an unsupported version', () => {
    expect(check('version = 7\n')).toEqual([
      'F:1:1: error: unsupported config version 7 (supported: 1, 2, 3, 4) [version]',
    ]);
  });
});

describe('warnings', () => {
  it('unknown keys anywhere, with a hint for a wrong case', () => {
    expect(
      check(
        `version = 2\nbogus = 1\n[crid]\n  sockett = "/x"\n[${CRI}]\n  sandbox_imag = "x"\n[${RT}.runc]\n  runtime_type = "io.containerd.runc.v2"\n  Runtime_Path = "/x"\n  [${RT}.runc.extra]\n    a = 1\n`,
      ),
    ).toEqual([
      'F:2:1: warning: unknown top-level key "bogus" [bogus]',
      'F:4:3: warning: unknown key "sockett" [crid.sockett]',
      `F:6:3: warning: unknown key "sandbox_imag" [${CRI}.sandbox_imag]`,
      `F:9:3: warning: unknown key "Runtime_Path" (did you mean "runtime_path"?) [${RT}.runc.Runtime_Path]`,
      `F:10:3: warning: unknown key "extra" [${RT}.runc.extra]`,
    ]);
  });

  it('unknown keys inside options, by runtime type', () => {
    const text = `version = 2\n[${RT}.runc]\n  runtime_type = "io.containerd.runc.v2"\n  [${RT}.runc.options]\n    BinaryName = "runc"\n    Binary = "x"\n[${RT}.kata]\n  runtime_type = "io.containerd.kata.v2"\n  [${RT}.kata.options]\n    ConfigPath = "/c"\n    BinaryName = "x"\n`;
    expect(check(text)).toEqual([
      `F:6:5: warning: unknown key "Binary" in options of runtime_type io.containerd.runc.v2 (known: NoPivotRoot, NoNewKeyring, ShimCgroup, IoUid, IoGid, BinaryName, Root, CriuPath, SystemdCgroup, CriuImagePath, CriuWorkPath) [${RT}.runc.options.Binary]`,
      `F:11:5: warning: unknown key "BinaryName" in options of runtime_type io.containerd.kata.v2 (known: TypeUrl, ConfigPath, ConfigBody) [${RT}.kata.options.BinaryName]`,
    ]);
  });

  it('a handler name no RuntimeClass can select', () => {
    expect(
      check(
        `version = 2\n[${RT}.runc]\n  runtime_type = "io.containerd.runc.v2"\n[${RT}.Fast_Runc]\n  runtime_type = "io.containerd.runc.v2"\n`,
      ),
    ).toEqual([
      `F:4:1: warning: handler name "Fast_Runc" is not a lowercase RFC 1123 label (at most 63 characters of a-z, 0-9, '-'): no RuntimeClass can select it [${RT}.Fast_Runc]`,
    ]);
  });

  it('other plugins and containerd top-level settings pass silently', () => {
    expect(
      check(
        `version = 2\nroot = "/var/lib/containerd"\n[grpc]\n  address = "/x"\n[plugins."io.containerd.gc.v1.scheduler"]\n  pause_threshold = 0.02\n[${CRI}]\n`,
      ),
    ).toEqual([]);
  });
});

describe('what serve would reject or silently mis-read is an error with its position', () => {
  it('a misspelled CRI plugin table: the handlers would vanish', () => {
    const text = `version = 2\n[plugins."io.containerd.grpc.v1.cr".containerd]\n  default_runtime_name = "kata"\n[plugins."io.containerd.grpc.v1.cr".containerd.runtimes.kata]\n  runtime_type = "io.containerd.kata.v2"\n`;
    expect(check(text)).toEqual([
      `F:2:1: error: unknown plugin "io.containerd.grpc.v1.cr" (did you mean "io.containerd.grpc.v1.cri"?): a version-2 file configures the CRI plugin in [${CRI}] [plugins."io.containerd.grpc.v1.cr"]`,
    ]);
  });

  it('other containerd tables without any CRI plugin table: names the expected table', () => {
    expect(
      check(
        'version = 2\nroot = "/var/lib/containerd"\n[plugins."io.containerd.gc.v1.scheduler"]\n  pause_threshold = 0.02\n',
      ),
    ).toEqual([
      `F:2:1: error: no CRI plugin table: a version-2 file configures the CRI plugin in [${CRI}]; without it crid would run on built-in defaults [root]`,
    ]);
    expect(check('version = 2\n[plugins.cri_runtime]\n  sandbox_image = "a"\n')).toEqual([
      `F:2:1: error: no CRI plugin table (did you mean [${CRI}] instead of [plugins.cri_runtime]?): a version-2 file configures the CRI plugin in [${CRI}]; without it crid would run on built-in defaults [plugins.cri_runtime]`,
    ]);
  });

  it('version-2 tables in a version-3 file', () => {
    expect(
      check(
        `version = 3\n[${CRI}.containerd]\n  default_runtime_name = "runc"\n[${CRI}]\n  sandbox_image = "pause:1"\n`,
      ),
    ).toEqual([
      `F:2:1: error: "containerd" is a version-2 key of [${CRI}]; in this version-3 file it goes to plugins."io.containerd.cri.v1.runtime".containerd [${CRI}.containerd]`,
      `F:5:3: error: "sandbox_image" is a version-2 key of [${CRI}]; in this version-3 file it goes to plugins."io.containerd.cri.v1.images".pinned_images.sandbox [${CRI}.sandbox_image]`,
    ]);
  });

  it('a snapshotter other than overlayfs, global or per handler', () => {
    expect(
      check(
        `version = 2\n[${CRI}.containerd]\n  snapshotter = "zfs"\n[${RT}.runc]\n  runtime_type = "io.containerd.runc.v2"\n  snapshotter = "native"\n`,
      ),
    ).toEqual([
      `F:3:3: error: snapshotter "zfs" is not available: crid stores image layers with overlayfs only [${CRI}.containerd.snapshotter]`,
      `F:6:3: error: snapshotter "native" is not available: crid stores image layers with overlayfs only [${RT}.runc.snapshotter]`,
    ]);
  });

  it('a short plugin id of a version-1 file is not taken for a typo of "cri"', () => {
    expect(
      check('version = 1\n[plugins.cri]\n  sandbox_image = "pause:1"\n[plugins.opt]\n  path = "/opt"\n').filter((d) =>
        d.includes('error'),
      ),
    ).toEqual([]);
  });

  it('a CRI table of another layout version', () => {
    expect(check(`version = 2\n[plugins."io.containerd.cri.v1.images"]\n  snapshotter = "x"\n`)).toEqual([
      `F:2:1: error: CRI plugin table "io.containerd.cri.v1.images" belongs to config version 3, this file is version 2: a version-2 file configures the CRI plugin in [${CRI}] [plugins."io.containerd.cri.v1.images"]`,
    ]);
  });

  it('streaming values serve cannot use', () => {
    expect(
      check(
        `version = 2\n[${CRI}]\n  stream_idle_timeout = "forever"\n  stream_server_port = "abc"\n  stream_server_address = "my-host"\n`,
      ),
    ).toEqual([
      `F:4:3: error: stream_server_port "abc" is not a port number (0-65535; "0" picks a free port) [${CRI}.stream_server_port]`,
      `F:5:3: error: stream_server_address "my-host" is not an IP address [${CRI}.stream_server_address]`,
      `F:3:3: error: stream_idle_timeout: "forever" is not a duration such as "4h0m0s" or "30s" [${CRI}.stream_idle_timeout]`,
    ]);
    expect(check(`version = 2\n[${CRI}]\n  stream_server_port = "70000"\n`)).toHaveLength(1);
  });

  it('an invalid sandbox_image, log_level, shim namespace, relative paths', () => {
    const text = `version = 2\n[${CRI}]\n  sandbox_image = "Pause:3.10"\n[${CRI}.cni]\n  conf_dir = "net.d"\n  max_conf_num = -1\n[crid]\n  log_level = "verbose"\n  socket = "run/crid.sock"\n  shim_namespace = "k8s io"\n  log_format = "pretty"\n`;
    expect(check(text)).toEqual([
      `F:3:3: error: sandbox_image "Pause:3.10" is not an image reference: invalid image reference "Pause:3.10": repository name must be lowercase [${CRI}.sandbox_image]`,
      'F:8:3: error: log_level "verbose" is not one of trace, debug, info, warn, error, fatal, silent [crid.log_level]',
      'F:11:3: error: log_format "pretty" is not "text" or "json" ("" or unset: text on a terminal, JSON otherwise) [crid.log_format]',
      "F:10:3: error: shim_namespace \"k8s io\" is not a containerd namespace (letters and digits, joined by '.', '_' or '-') [crid.shim_namespace]",
      'F:9:3: error: "run/crid.sock" is not an absolute path [crid.socket]',
      `F:5:3: error: "net.d" is not an absolute path [${CRI}.cni.conf_dir]`,
      `F:6:3: error: max_conf_num -1 is negative (0 = every file) [${CRI}.cni.max_conf_num]`,
    ]);
  });
});

describe('deprecations', () => {
  it('empty legacy tables, as `containerd config default` (1.6) writes them, are not warned about', () => {
    const text = `version = 2\n[${CRI}.containerd.default_runtime]\n  runtime_type = ""\n  runtime_engine = ""\n[${CRI}.registry.mirrors]\n[${RT}.runc]\n  runtime_type = "io.containerd.runc.v2"\n`;
    expect(check(text)).toEqual([]);
  });
});
