// The CRI conformance run: critest v1.26.1 (built from third_party/ by scripts/build-cri-tools)
// against a real crid of its own (socket, root, state, CNI network, local registry with the images
// critest pulls, served through hosts.toml mirrors), once per runtime handler.
//
//   node test/conformance/run.ts [--handler H]... [--focus RE] [--benchmark [--benchmark-out DIR]]
//
// It fails when a spec fails, when crid is not alive after a handler's run (it is then restarted
// for the next handler), or when a handler's run leaves anything behind (pods, containers, shim
// processes, mounts under crid's directory, network namespaces). Everything it made is removed on any exit;
// critest's and crid's logs are kept in a temp directory (printed) only when the run fails.
// --benchmark runs `critest -benchmark` (default handler runc) with the sample counts below, prints
// its figures and, with --benchmark-out DIR, writes them there as JSON (one file per benchmark).
//
// The crun handler needs a host prepared for crun (crun 1.8.1 refuses hybrid cgroups whose unified
// hierarchy holds controllers): the run prepares it as the README tells an admin, and gives it back.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { criClient, type CriClient } from '../helpers/cri-client.ts';
import { REPO, startCrid, waitForSocket, type CridProcess } from '../helpers/crid-process.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';
import { prepareHostForCrun } from '../helpers/host-cgroups.ts';
import { createCniFixture, SYSTEM_CNI_BIN, type CniFixture } from '../network/cni-fixture.ts';
import { PAUSE_IMAGE, pushCritestImages, writeMirrorHosts } from './critest-images.ts';
import { specOutcomes, summarize, type CritestSummary } from './critest-report.ts';
import { removeInstanceLeftovers, settledLeftovers, type CridInstance } from './node-leftovers.ts';

const HANDLERS = ['runc', 'crun', 'runc-v1'];
// Its image is pinned by the digest of the upstream build, which cannot be rebuilt offline.
const SKIPPED_SPECS = ['public image with digest should be pulled and removed'];
// critest runs no benchmark without its sample counts. Samples run one at a time: with parallel
// samples gmeasure returns before the last ones finish, and critest exits leaving their pods behind.
const BENCHMARK_PARAMS = `containersNumber: 50
containersNumberParallel: 1
podsNumber: 100
podsNumberParallel: 1
imagesNumber: 20
imagesNumberParallel: 1
`;
const CRITEST_TIMEOUT_MS = 30 * 60_000;
// crid's containerd namespace, which the shims add to each runtime's Root.
const NAMESPACE = 'k8s.io';

interface Options {
  handlers: string[];
  focus: string | undefined;
  benchmark: boolean;
  benchmarkOut: string | undefined;
}

interface Node {
  dir: string;
  logDir: string;
  instance: CridInstance;
  configFile: string;
  socket: string;
  registry?: TestRegistry;
  cni?: CniFixture;
  crid?: CridProcess;
  client?: CriClient;
  /** crid's logs of earlier processes (when it died and was restarted). */
  earlierCridLogs: string;
  /** Aborted by SIGINT/SIGTERM: kills a running build or critest and ends the run. */
  abort: AbortController;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      handler: { type: 'string', multiple: true },
      focus: { type: 'string' },
      benchmark: { type: 'boolean', default: false },
      'benchmark-out': { type: 'string' },
    },
  });
  const handlers = values.handler ?? (values.benchmark ? ['runc'] : HANDLERS);
  const unknown = handlers.filter((h) => !HANDLERS.includes(h));
  if (unknown.length > 0) throw new Error(`unknown handler ${unknown.join(', ')}; known: ${HANDLERS.join(', ')}`);
  const benchmarkOut = values['benchmark-out'] && path.resolve(values['benchmark-out']);
  return { handlers, focus: values.focus, benchmark: values.benchmark, benchmarkOut };
}

function configToml(node: Node, cni: CniFixture, hostsDir: string): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  const runcV2 = (name: string, binary: string) => `[${cri}.containerd.runtimes.${name}]
  runtime_type = "io.containerd.runc.v2"
  [${cri}.containerd.runtimes.${name}.options]
    BinaryName = "${binary}"
    Root = "${node.dir}/${name}"
`;
  return `version = 2
[${cri}]
  sandbox_image = "${PAUSE_IMAGE}"
  restrict_oom_score_adj = true
[${cri}.registry]
  config_path = "${hostsDir}"
[${cri}.containerd]
  default_runtime_name = "runc"
${runcV2('runc', 'runc')}${runcV2('crun', 'crun')}[${cri}.containerd.runtimes.runc-v1]
  runtime_type = "io.containerd.runtime.v1.linux"
  [${cri}.containerd.runtimes.runc-v1.options]
    Runtime = "runc"
    RuntimeRoot = "${node.dir}/runc-v1"
[${cri}.cni]
  bin_dirs = ${JSON.stringify([cni.binDir, SYSTEM_CNI_BIN])}
  conf_dir = "${cni.confDir}"
[crid]
  root = "${node.instance.dir}/root"
  state = "${node.instance.stateDir}"
  metrics_address = ""
`;
}

function alive(crid: CridProcess): boolean {
  return crid.child.exitCode === null && crid.child.signalCode === null;
}

async function startCridOf(node: Node): Promise<void> {
  node.crid = startCrid(node.configFile, node.socket);
  await waitForSocket(node.crid);
  node.client = criClient(node.socket);
}

async function setUp(node: Node): Promise<string> {
  const { stdout: toolsDir } = await execa(path.join(REPO, 'scripts/build-cri-tools'), {
    stderr: 'inherit',
    cancelSignal: node.abort.signal,
  });
  node.registry = await startRegistry();
  await pushCritestImages(node.registry.address, path.join(REPO, '.tools/conformance'));
  const hostsDir = path.join(node.dir, 'certs.d');
  writeMirrorHosts(hostsDir, node.registry.address);
  node.cni = await createCniFixture();
  fs.writeFileSync(node.configFile, configToml(node, node.cni, hostsDir));
  await startCridOf(node);
  return toolsDir.trim();
}

function benchmarkArgs(node: Node, opts: Options): string[] {
  const params = path.join(node.dir, 'benchmark-params.yaml');
  fs.writeFileSync(params, BENCHMARK_PARAMS);
  if (opts.benchmarkOut) fs.mkdirSync(opts.benchmarkOut, { recursive: true });
  return [
    '-benchmark',
    `--benchmarking-params-file=${params}`,
    ...(opts.benchmarkOut ? [`--benchmarking-output-dir=${opts.benchmarkOut}`] : []),
  ];
}

function critestArgs(node: Node, handler: string, opts: Options, report: string): string[] {
  const endpoint = `unix://${node.socket}`;
  return [
    `--runtime-endpoint=${endpoint}`,
    `--image-endpoint=${endpoint}`,
    `--runtime-handler=${handler}`,
    `--ginkgo.json-report=${report}`,
    '--ginkgo.no-color',
    ...SKIPPED_SPECS.map((spec) => `--ginkgo.skip=${spec}`),
    ...(opts.focus ? [`--ginkgo.focus=${opts.focus}`] : []),
    ...(opts.benchmark ? benchmarkArgs(node, opts) : []),
  ];
}

async function runCritest(node: Node, toolsDir: string, handler: string, opts: Options): Promise<CritestSummary> {
  const report = path.join(node.logDir, `critest-${handler}.json`);
  const log = { file: path.join(node.logDir, `critest-${handler}.log`), append: true };
  await execa(path.join(toolsDir, 'critest'), critestArgs(node, handler, opts, report), {
    cwd: node.dir,
    reject: false,
    timeout: CRITEST_TIMEOUT_MS,
    cancelSignal: node.abort.signal,
    stdout: opts.benchmark ? 'inherit' : log,
    stderr: opts.benchmark ? 'inherit' : log,
  });
  node.abort.signal.throwIfAborted();
  if (!fs.existsSync(report))
    throw new Error(`critest wrote no report for ${handler}; see ${node.logDir}/critest-${handler}.log`);
  return summarize(specOutcomes(fs.readFileSync(report, 'utf8')));
}

async function removePods(client: CriClient): Promise<void> {
  const { items } = (await client.runtime.ListPodSandbox({})) as { items: Array<{ id: string }> };
  for (const pod of items) {
    await client.runtime.StopPodSandbox({ pod_sandbox_id: pod.id }).catch(() => {});
    await client.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id }).catch(() => {});
  }
}

/** The end of what crid wrote outside its JSON log lines: an uncaught error's message and stack. */
function crashReport(stderr: string): string {
  const plain = stderr.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('{'));
  return plain
    .slice(-12)
    .map((line) => `\n    ${line}`)
    .join('');
}

/** Problems with crid after a handler's run; restarts it when it died so later handlers still run. */
async function checkCrid(node: Node, handler: string): Promise<string[]> {
  const problems: string[] = [];
  const crid = node.crid!;
  if (!alive(crid)) {
    problems.push(
      `${handler}: crid died (exit ${crid.child.exitCode}, signal ${crid.child.signalCode})${crashReport(crid.stderr())}`,
    );
    node.earlierCridLogs += crid.stderr();
    node.client!.close();
    await removeInstanceLeftovers(node.instance);
    await startCridOf(node);
  }
  const found = await settledLeftovers(node.client!, node.instance, node.crid!.child.pid!);
  // Reported once: the next handler's check shows only what its own run left.
  if (found.length > 0) await removePods(node.client!);
  return [...problems, ...found.map((item) => `${handler}: left behind ${item}`)];
}

function printSummary(node: Node, handler: string, summary: CritestSummary, seconds: number): void {
  console.log(
    `${handler}: ${summary.passed} passed, ${summary.failed.length} failed, ${summary.skipped} skipped (${seconds.toFixed(0)} s)`,
  );
  // After crid died every later spec fails the same way: one line for them, not one each.
  const unreachable = summary.failed.filter((spec) => spec.failure.includes(node.socket));
  for (const spec of summary.failed.filter((s) => !unreachable.includes(s))) {
    console.log(`  FAILED ${spec.name}\n    ${spec.failure.split('\n').slice(0, 6).join('\n    ')}`);
  }
  if (unreachable.length > 0) console.log(`  FAILED ${unreachable.length} more: crid was not there to answer`);
}

async function tearDown(node: Node, keepLogs: boolean): Promise<void> {
  if (node.client && node.crid && alive(node.crid)) {
    await removePods(node.client).catch(() => {});
  }
  node.client?.close();
  if (node.crid) {
    await node.crid.stop();
    fs.writeFileSync(path.join(node.logDir, 'crid.log'), node.earlierCridLogs + node.crid.stderr());
  }
  await removeInstanceLeftovers(node.instance);
  await node.registry?.stop();
  await node.cni?.dispose();
  fs.rmSync(node.dir, { recursive: true, force: true });
  if (keepLogs) console.log(`logs: ${node.logDir}`);
  else fs.rmSync(node.logDir, { recursive: true, force: true });
}

async function conformance(node: Node, opts: Options): Promise<string[]> {
  const toolsDir = await setUp(node);
  const problems: string[] = [];
  for (const handler of opts.handlers) {
    node.abort.signal.throwIfAborted();
    const started = Date.now();
    const summary = await runCritest(node, toolsDir, handler, opts);
    printSummary(node, handler, summary, (Date.now() - started) / 1000);
    problems.push(...summary.failed.map((spec) => `${handler}: failed ${spec.name}`));
    problems.push(...(await checkCrid(node, handler)));
  }
  return problems;
}

async function main(): Promise<number> {
  const opts = options();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crid-conformance-'));
  const node: Node = {
    dir,
    logDir: fs.mkdtempSync(path.join(os.tmpdir(), 'crid-conformance-logs-')),
    instance: {
      dir,
      stateDir: path.join(dir, 'state'),
      runtimeRoots: [
        { binary: 'runc', root: path.join(dir, 'runc', NAMESPACE) },
        { binary: 'crun', root: path.join(dir, 'crun', NAMESPACE) },
        { binary: 'runc', root: path.join(dir, 'runc-v1', NAMESPACE) },
      ],
    },
    configFile: path.join(dir, 'crid.toml'),
    socket: path.join(dir, 'crid.sock'),
    earlierCridLogs: '',
    abort: new AbortController(),
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => node.abort.abort(new Error(`stopped by ${signal}`)));
  let problems = ['interrupted'];
  const restoreHost = await prepareHostForCrun();
  try {
    problems = await conformance(node, opts);
  } catch (err) {
    problems = [`conformance run failed: ${err instanceof Error ? err.message : String(err)}`];
  } finally {
    await tearDown(node, problems.length > 0);
    await restoreHost();
  }
  for (const problem of problems) console.error(problem);
  return problems.length === 0 ? 0 : 1;
}

process.exitCode = await main();
