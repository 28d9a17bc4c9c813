// `crid images import FILE`: loads an image archive into the running crid, as
// `ctr -n k8s.io images import` does for containerd; an air-gapped node gets its pause image this way.
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ControlClient } from '../control/control-client.ts';
import { controlSocketPath } from '../control/control-server.ts';
import { loadForCli } from './cli-config.ts';
import { parseCommandArgs } from './parse-args.ts';
import { processIO, type CliIO } from './config-command.ts';

const USAGE = `Usage: crid images import [--config F] FILE

Imports the images of an archive into the running crid (over <state>/control.sock), under the
names the archive gives them. FILE ("-" for stdin) is one of:
  - an OCI image layout as a tar (docker save since Docker 25, skopeo copy ... oci-archive:FILE,
    buildah push ... oci-archive:FILE); names from io.containerd.image.name, else a full
    org.opencontainers.image.ref.name
  - a classic docker save tar (manifest.json with RepoTags)
plain or gzip-compressed. Every blob's digest is verified and every layer's diff_id; a multi-platform
image gets this node's platform. An image whose name another image holds takes the name over.
Exit 0 when every image was imported, 1 when the archive was refused or crid cannot be reached,
2 for bad flags.
`;

export async function runImagesCommand(argv: string[], io: CliIO & { stdin?: Readable } = processIO): Promise<number> {
  const parsed = parseCommandArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if ('error' in parsed) return usage(io, `crid images: ${parsed.error}`);
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const [command, file, ...extra] = positionals;
  if (command !== 'import')
    return usage(
      io,
      command === undefined ? 'crid images: a command is needed' : `crid images: unknown command "${command}"`,
    );
  if (file === undefined || extra.length > 0) return usage(io, 'crid images import: exactly one FILE is needed');
  const config = loadForCli(values.config, io, 'images import');
  if (config === undefined) return 1;
  try {
    const archive = file === '-' ? (io.stdin ?? process.stdin) : (await open(file)).createReadStream();
    const images = await new ControlClient(controlSocketPath(config.crid.state)).importImages(archive);
    for (const image of images)
      io.stdout.write(`imported ${image.repoTags.length > 0 ? image.repoTags.join(', ') : '(no name)'} ${image.id}\n`);
    return 0;
  } catch (err) {
    io.stderr.write(`crid images import: ${(err as Error).message}\n`);
    return 1;
  }
}

function usage(io: CliIO, message: string): number {
  io.stderr.write(`${message}\n\n${USAGE}`);
  return 2;
}
