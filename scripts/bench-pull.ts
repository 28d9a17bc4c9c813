// Pull bench: builds a ~50 MB multi-layer image of incompressible data, pushes it to a local
// docker-registry, then times crid's pull + unpack beside `skopeo copy` into an OCI dir plus
// `umoci raw unpack`, in the same run. Prints seconds, MB/s and the ratio (median of 3 runs each).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ImageService } from '../src/image/image-service.ts';
import { silentLogger } from '../src/log.ts';
import { buildLayer, busyboxEntries, dir, file, pushImage, type BuiltLayer } from '../test/helpers/image-builder.ts';
import { startRegistry } from '../test/helpers/registry.ts';

const RUNS = 3;
const DATA_LAYERS = 4;
const FILES_PER_LAYER = 6;
const FILE_SIZE = 2 << 20;

async function buildBenchLayers(): Promise<BuiltLayer[]> {
  const layers = [await buildLayer(await busyboxEntries(), 'gzip')];
  for (let l = 0; l < DATA_LAYERS; l++) {
    const files = Array.from({ length: FILES_PER_LAYER }, (_, f) =>
      file(`data/l${l}/f${f}.bin`, randomBytes(FILE_SIZE)),
    );
    // gzip throughout: Debian's umoci (the baseline) cannot read zstd layers.
    layers.push(await buildLayer([dir('data'), dir(`data/l${l}`), ...files], 'gzip'));
  }
  return layers;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function cridPull(work: string, ref: string, run: number): Promise<number> {
  const root = join(work, `crid-${run}`);
  const images = await ImageService.open({ root, registryConfigPath: '', log: silentLogger });
  const seconds = await timed(async () => void (await images.pull(ref)));
  await rm(root, { recursive: true, force: true });
  return seconds;
}

async function baselinePull(work: string, address: string, run: number): Promise<number> {
  const layout = join(work, `oci-${run}`);
  const bundle = join(work, `rootfs-${run}`);
  const seconds = await timed(async () => {
    await execa('skopeo', [
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      `docker://${address}/bench/image:v1`,
      `oci:${layout}:v1`,
    ]);
    await execa('umoci', ['raw', 'unpack', '--image', `${layout}:v1`, bundle]);
  });
  await rm(layout, { recursive: true, force: true });
  await rm(bundle, { recursive: true, force: true });
  return seconds;
}

async function main(): Promise<void> {
  const registry = await startRegistry();
  const work = await mkdtemp(join(tmpdir(), 'crid-bench-pull-'));
  try {
    const layers = await buildBenchLayers();
    await pushImage(registry.address, 'bench/image', layers, { tag: 'v1' });
    const megabytes = layers.reduce((sum, l) => sum + l.bytes.length, 0) / 1e6;
    console.log(`image: ${layers.length} layers, ${megabytes.toFixed(1)} MB compressed, ${RUNS} runs each`);
    const crid: number[] = [];
    const baseline: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      crid.push(await cridPull(work, `${registry.address}/bench/image:v1`, run));
      baseline.push(await baselinePull(work, registry.address, run));
    }
    const report = (name: string, runs: number[]) =>
      console.log(
        `${name.padEnd(28)} ${median(runs).toFixed(2)} s  ${(megabytes / median(runs)).toFixed(1)} MB/s  (runs: ${runs.map((s) => s.toFixed(2)).join(', ')})`,
      );
    report('crid pull+unpack', crid);
    report('skopeo copy + umoci unpack', baseline);
    console.log(`ratio crid/baseline: ${(median(crid) / median(baseline)).toFixed(2)} (below 1 means crid is faster)`);
  } finally {
    await registry.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
