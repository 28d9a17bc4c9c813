// Checks of the image settings that need the whole config: pull durations and limits, and the inline
// registry tables next to config_path (config_path wins, so the inline mirrors and TLS settings do
// nothing; containerd 1.7 refuses such a file), each told at its key.
import type { Diagnostic } from './model.ts';
import type { BuiltConfig } from './build.ts';
import { positionOf } from './build.ts';
import { parseGoDuration } from '../util/go-duration.ts';

export function imageSettingsDiagnostics(built: BuiltConfig): Diagnostic[] {
  return [...pullDiagnostics(built), ...registryDiagnostics(built)];
}

function diagnostic(built: BuiltConfig, severity: Diagnostic['severity'], key: string, message: string): Diagnostic {
  const at = built.sources.get(key);
  return { severity, message, keyPath: at?.keyPath ?? key, ...(at && { position: positionOf(at) }) };
}

function pullDiagnostics(built: BuiltConfig): Diagnostic[] {
  const out: Diagnostic[] = [];
  try {
    parseGoDuration(built.config.image_pull_progress_timeout, 'image_pull_progress_timeout');
  } catch (err) {
    out.push(diagnostic(built, 'error', 'image_pull_progress_timeout', (err as Error).message));
  }
  if (built.config.max_concurrent_downloads < 1) {
    out.push(
      diagnostic(
        built,
        'error',
        'max_concurrent_downloads',
        `max_concurrent_downloads must be at least 1, got ${built.config.max_concurrent_downloads}`,
      ),
    );
  }
  return out;
}

function registryDiagnostics(built: BuiltConfig): Diagnostic[] {
  const c = built.config;
  if (c.registry_config_path === '') return [];
  const ignored: Array<[string, boolean]> = [
    ['registry_mirrors', Object.keys(c.registry_mirrors).length > 0],
    ['registry_configs', Object.values(c.registry_configs).some((h) => h.tls !== undefined)],
  ];
  return ignored
    .filter(([, set]) => set)
    .map(([key]) => {
      const what = key === 'registry_mirrors' ? '`registry.mirrors`' : 'the `tls` of `registry.configs`';
      return diagnostic(
        built,
        'warning',
        key,
        `${what} has no effect: \`registry.config_path\` is set and wins (put these settings in its hosts.toml files)`,
      );
    });
}
