import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log.ts';
import { CridMetrics, grpcCodeName } from './metrics.ts';
import { CRID_VERSION } from '../version.ts';
import { startMetricsServer, type MetricsServer } from './metrics-server.ts';

let server: MetricsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The value of one sample line, `name{labels} value`. */
function sample(text: string, line: string): number | undefined {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe('CridMetrics', () => {
  it('counts RPCs by method and code name, with a duration histogram per method and handler', async () => {
    const m = new CridMetrics();
    m.observeRpc('RunPodSandbox', 0, 0.2, 'runc');
    m.observeRpc('RunPodSandbox', 9, 0.01, 'crun');
    m.observeRpc('Version', 0, 0.001);
    const text = await m.scrape();
    expect(sample(text, 'crid_grpc_requests_total{method="RunPodSandbox",code="OK"}')).toBe(1);
    expect(sample(text, 'crid_grpc_requests_total{method="RunPodSandbox",code="FAILED_PRECONDITION"}')).toBe(1);
    expect(sample(text, 'crid_grpc_request_duration_seconds_count{method="RunPodSandbox",handler="crun"}')).toBe(1);
    expect(
      sample(text, 'crid_grpc_request_duration_seconds_bucket{le="0.25",method="RunPodSandbox",handler="runc"}'),
    ).toBe(1);
    expect(sample(text, 'crid_grpc_request_duration_seconds_count{method="Version",handler=""}')).toBe(1);
    expect(grpcCodeName(99)).toBe('99');
  });

  it('exports crid_build_info, and process and Node runtime metrics once asked to collect them', async () => {
    const metrics = new CridMetrics();
    expect(await metrics.scrape()).not.toContain('process_resident_memory_bytes');
    metrics.collectProcessMetrics();
    const text = await metrics.scrape();
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(text).toContain('# TYPE nodejs_gc_duration_seconds histogram');
    expect(sample(text, `crid_build_info{version="${CRID_VERSION}",node="${process.version}"}`)).toBe(1);
  });

  it('times sandbox phases, failed ones too', async () => {
    const m = new CridMetrics();
    await m.timeSandboxPhase('runc', 'shim_start', async () => 'ok');
    await expect(
      m.timeSandboxPhase('kata', 'task_create', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    m.observeSandboxPhase('runc', 'image_ensure', 3);
    const text = await m.scrape();
    expect(sample(text, 'crid_sandbox_run_phase_duration_seconds_count{handler="runc",phase="shim_start"}')).toBe(1);
    expect(sample(text, 'crid_sandbox_run_phase_duration_seconds_count{handler="kata",phase="task_create"}')).toBe(1);
    expect(sample(text, 'crid_sandbox_run_phase_duration_seconds_sum{handler="runc",phase="image_ensure"}')).toBe(3);
  });

  it('computes pods, containers, shims and handler checks at scrape time from the callbacks', async () => {
    let pods = [
      { handler: 'runc', state: 'ready', count: 2 },
      { handler: 'kata', state: 'notready', count: 1 },
    ];
    const m = new CridMetrics({ pods: () => pods });
    m.setSources({
      containers: () => [{ handler: 'runc', state: 'running', count: 3 }],
      shimsRunning: () => ({ runc: 2, kata: 1 }),
      handlerChecks: () => [
        { handler: 'runc', ok: true, reason: '', checkedAt: '', durationMs: 1 },
        {
          handler: 'crun',
          ok: true,
          reason: '',
          checkedAt: '',
          durationMs: 1,
          deep: { ok: false, reason: 'x', seconds: 1, checkedAt: '' },
        },
        { handler: 'gone', ok: false, reason: 'missing', checkedAt: '', durationMs: 1 },
      ],
    });
    let text = await m.scrape();
    expect(sample(text, 'crid_pods{handler="runc",state="ready"}')).toBe(2);
    expect(sample(text, 'crid_pods{handler="kata",state="notready"}')).toBe(1);
    expect(sample(text, 'crid_containers{handler="runc",state="running"}')).toBe(3);
    expect(sample(text, 'crid_shims_running{handler="kata"}')).toBe(1);
    expect(sample(text, 'crid_handler_check_ok{handler="runc"}')).toBe(1);
    expect(sample(text, 'crid_handler_check_ok{handler="crun"}')).toBe(0);
    expect(sample(text, 'crid_handler_check_ok{handler="gone"}')).toBe(0);
    pods = [];
    text = await m.scrape();
    expect(sample(text, 'crid_pods{handler="runc",state="ready"}')).toBeUndefined();
  });

  it('counts reloads by result and keeps the last result', async () => {
    const m = new CridMetrics();
    let text = await m.scrape();
    expect(sample(text, 'crid_config_reloads_total{result="failure"}')).toBe(0);
    expect(sample(text, 'crid_config_last_reload_success')).toBe(1);
    m.configReloaded(true);
    m.configReloaded(false);
    text = await m.scrape();
    expect(sample(text, 'crid_config_reloads_total{result="success"}')).toBe(1);
    expect(sample(text, 'crid_config_reloads_total{result="failure"}')).toBe(1);
    expect(sample(text, 'crid_config_last_reload_success')).toBe(0);
    expect(sample(text, 'crid_config_last_reload_success_timestamp_seconds')).toBeGreaterThan(1.7e9);
  });

  it('uses its own registry: two instances do not clash and the global registry stays empty', async () => {
    const { register } = await import('prom-client');
    new CridMetrics();
    new CridMetrics();
    expect(await register.getMetricsAsJSON()).toEqual([]);
  });
});

describe('the /metrics endpoint', () => {
  it('serves the exposition text over HTTP on loopback', async () => {
    const metrics = new CridMetrics();
    metrics.observeRpc('Version', 0, 0.001);
    server = await startMetricsServer({ address: '127.0.0.1:0', explicit: false, metrics, log: silentLogger });
    expect(server!.address).toMatch(/^127\.0\.0\.1:\d+$/);
    const res = await fetch(`http://${server!.address}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(sample(await res.text(), 'crid_grpc_requests_total{method="Version",code="OK"}')).toBe(1);
    expect((await fetch(`http://${server!.address}/other`)).status).toBe(404);
    expect((await fetch(`http://${server!.address}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('"" turns metrics off; a non-loopback address is served only when the config sets it', async () => {
    const metrics = new CridMetrics();
    expect(await startMetricsServer({ address: '', explicit: true, metrics, log: silentLogger })).toBeUndefined();
    await expect(
      startMetricsServer({ address: '0.0.0.0:0', explicit: false, metrics, log: silentLogger }),
    ).rejects.toThrow('refusing to serve metrics on non-loopback address "0.0.0.0:0" that the config does not set');
    await expect(startMetricsServer({ address: ':0', explicit: false, metrics, log: silentLogger })).rejects.toThrow(
      /non-loopback/,
    );
    server = await startMetricsServer({ address: '0.0.0.0:0', explicit: true, metrics, log: silentLogger });
    const port = server!.address.split(':').at(-1);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
  });

  it('a port already in use is an error, not a silent failure', async () => {
    const metrics = new CridMetrics();
    server = await startMetricsServer({ address: '127.0.0.1:0', explicit: false, metrics, log: silentLogger });
    await expect(
      startMetricsServer({ address: server!.address, explicit: false, metrics, log: silentLogger }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});
