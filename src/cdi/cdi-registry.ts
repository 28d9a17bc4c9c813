// The CDI devices described by the spec files in the configured directories. Files are re-read when
// they change (checked at each lookup by modification time and size, so a spec a driver installs or
// rewrites is seen by the next CreateContainer); a file that does not parse is skipped with a warning.
import fs from 'node:fs';
import path from 'node:path';
import { failedPrecondition, invalidArgument } from '../errors.ts';
import type { Logger } from '../log.ts';
import { parseCdiSpec, parseQualifiedName, type CdiSpec, type ContainerEdits } from './cdi-spec.ts';

export interface ResolvedCdiDevice {
  name: string;
  /** The spec's common edits (if any), then the device's own. */
  edits: ContainerEdits[];
}

interface CachedFile {
  stamp: string;
  spec?: CdiSpec;
}

interface Entry {
  file: string;
  priority: number;
  edits: ContainerEdits[];
  /** Another file of the same priority defines the same device. */
  conflict?: string;
}

const SPEC_FILE = /\.(json|yaml)$/;

export class CdiRegistry {
  private readonly files = new Map<string, CachedFile>();
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  /** Every requested device's edits, in request order; an unknown or ambiguous device fails the call naming it. */
  async resolve(dirs: readonly string[], names: readonly string[]): Promise<ResolvedCdiDevice[]> {
    const devices = await this.devices(dirs);
    return names.map((name) => {
      if (!parseQualifiedName(name))
        throw invalidArgument(
          `CDI device ${JSON.stringify(name)}: not a qualified device name (vendor.com/class=name)`,
        );
      const entry = devices.get(name);
      if (!entry)
        throw invalidArgument(`unknown CDI device ${JSON.stringify(name)} (no spec in ${dirs.join(', ')} defines it)`);
      if (entry.conflict)
        throw failedPrecondition(
          `CDI device ${JSON.stringify(name)} is defined by both ${entry.file} and ${entry.conflict}`,
        );
      return { name, edits: entry.edits };
    });
  }

  private async devices(dirs: readonly string[]): Promise<Map<string, Entry>> {
    const devices = new Map<string, Entry>();
    const seen = new Set<string>();
    for (const [priority, dir] of dirs.entries()) {
      for (const file of await specFiles(dir)) {
        seen.add(file);
        const spec = await this.read(file);
        if (spec) addDevices(devices, spec, file, priority);
      }
    }
    for (const file of this.files.keys()) if (!seen.has(file)) this.files.delete(file);
    return devices;
  }

  private async read(file: string): Promise<CdiSpec | undefined> {
    const st = await fs.promises.stat(file).catch(() => undefined);
    if (!st?.isFile()) return undefined;
    const stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    const cached = this.files.get(file);
    if (cached?.stamp === stamp) return cached.spec;
    let spec: CdiSpec | undefined;
    try {
      spec = await parseCdiSpec(await fs.promises.readFile(file, 'utf8'));
    } catch (err) {
      this.log.warn({ file, err: (err as Error).message }, 'skipping a CDI spec file that is not valid');
    }
    this.files.set(file, { stamp, spec });
    return spec;
  }
}

async function specFiles(dir: string): Promise<string[]> {
  const names = await fs.promises.readdir(dir).catch(() => []);
  return names
    .filter((n) => SPEC_FILE.test(n))
    .sort()
    .map((n) => path.join(dir, n));
}

function addDevices(devices: Map<string, Entry>, spec: CdiSpec, file: string, priority: number): void {
  for (const device of spec.devices) {
    const name = `${spec.kind}=${device.name}`;
    const edits = spec.containerEdits ? [spec.containerEdits, device.containerEdits] : [device.containerEdits];
    const existing = devices.get(name);
    if (existing && existing.priority === priority && existing.file !== file) {
      existing.conflict = file;
      continue;
    }
    devices.set(name, { file, priority, edits });
  }
}
