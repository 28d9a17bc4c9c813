// The inline registry tables next to config_path: config_path wins, so the inline mirrors and TLS
// settings do nothing (containerd 1.7 refuses such a file), which the admin is told at the key.
import type { Diagnostic } from './model.ts';
import type { BuiltConfig } from './build.ts';
import { positionOf } from './build.ts';

export function registryDiagnostics(built: BuiltConfig): Diagnostic[] {
  const c = built.config;
  if (c.registry_config_path === '') return [];
  const ignored: Array<[string, boolean]> = [
    ['registry_mirrors', Object.keys(c.registry_mirrors).length > 0],
    ['registry_configs', Object.values(c.registry_configs).some((h) => h.tls !== undefined)],
  ];
  return ignored
    .filter(([, set]) => set)
    .map(([key]) => {
      const at = built.sources.get(key);
      const what = key === 'registry_mirrors' ? '`registry.mirrors`' : 'the `tls` of `registry.configs`';
      return {
        severity: 'warning' as const,
        message: `${what} has no effect: \`registry.config_path\` is set and wins (put these settings in its hosts.toml files)`,
        keyPath: at?.keyPath ?? key,
        ...(at && { position: positionOf(at) }),
      };
    });
}
