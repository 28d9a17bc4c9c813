// Every RPC with absent, empty, huge and hostile fields: each gets an answer (an error code or a
// result), crid keeps serving, and nothing is left behind.
import { afterAll, beforeAll, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadCri } from '../../src/proto.ts';
import { listNetns } from '../../src/network/netns.ts';
import { startPodEnv, type PodEnv } from '../helpers/pod-env.ts';

let env: PodEnv;

beforeAll(async () => {
  env = await startPodEnv();
}, 180_000);

afterAll(async () => {
  await env?.dispose();
}, 120_000);

const HUGE = 'x'.repeat(1_000_000);
const HOSTILE = '../../../../etc/passwd\u0000\n$(reboot)';

function requestsFor(): Array<Record<string, unknown>> {
  const metadata = (value: string) => ({ name: value, namespace: value, uid: value, attempt: 4294967295 });
  return [
    {},
    { pod_sandbox_id: '', container_id: '', config: null, image: null },
    { pod_sandbox_id: HUGE, container_id: HUGE, image: { image: HUGE }, config: { metadata: metadata(HUGE), hostname: HUGE, log_directory: HUGE } },
    {
      pod_sandbox_id: HOSTILE,
      container_id: HOSTILE,
      cmd: [HOSTILE],
      timeout: '-1',
      image: { image: HOSTILE },
      runtime_handler: HOSTILE,
      config: {
        metadata: metadata(HOSTILE),
        hostname: HOSTILE,
        log_directory: HOSTILE,
        log_path: HOSTILE,
        dns_config: { servers: [HOSTILE], searches: [HOSTILE], options: [HOSTILE] },
        port_mappings: [{ container_port: -1, host_port: 70000, host_ip: HOSTILE }],
        linux: { cgroup_parent: HOSTILE, sysctls: { [HOSTILE]: HOSTILE }, resources: { cpu_quota: '-9223372036854775808', memory_limit_in_bytes: '9223372036854775807' } },
      },
      sandbox_config: { metadata: metadata(HOSTILE) },
    },
  ];
}

it('answers every RPC with bad input and keeps serving', async () => {
  const pkg = grpc.loadPackageDefinition(loadCri()) as any;
  const services = [pkg.runtime.v1.RuntimeService, pkg.runtime.v1.ImageService];
  const address = `unix://${env.socket}`;
  const outcomes: Record<string, number[]> = {};
  for (const Service of services) {
    const client = new Service(address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 32 * 1024 * 1024 });
    for (const [rpc, method] of Object.entries(Service.service as grpc.ServiceDefinition)) {
      if (method.responseStream) continue;
      for (const request of requestsFor()) {
        const code = await new Promise<number>((resolve) =>
          client[rpc](request, { deadline: Date.now() + 20_000 }, (err: grpc.ServiceError | null) => resolve(err ? err.code : 0)),
        );
        (outcomes[rpc] ??= []).push(code);
        expect(code, `${rpc} crashed or hung`).not.toBe(grpc.status.UNAVAILABLE);
        expect(code, `${rpc} hit its deadline`).not.toBe(grpc.status.DEADLINE_EXCEEDED);
      }
    }
    client.close();
  }
  expect(env.crid.child.exitCode).toBeNull();
  expect((await env.client.runtime.Version({})).runtime_name).toBe('crid');
  // nothing half-made: no pods, containers, network namespaces or bundles
  expect((await env.client.runtime.ListPodSandbox({})).items).toEqual([]);
  expect((await env.client.runtime.ListContainers({})).containers).toEqual([]);
  expect(await listNetns()).toEqual([]);
  const bundles = path.join(env.dir, 'state/tasks/k8s.io');
  expect(fs.existsSync(bundles) ? fs.readdirSync(bundles) : []).toEqual([]);
  // bad input is refused as such, not as an internal failure (a huge message once broke the connection)
  expect(Object.entries(outcomes).filter(([, codes]) => codes.includes(grpc.status.INTERNAL))).toEqual([]);
  expect(outcomes.RunPodSandbox!.every((c) => c === grpc.status.INVALID_ARGUMENT)).toBe(true);
  expect(outcomes.CreateContainer!.every((c) => c === grpc.status.INVALID_ARGUMENT || c === grpc.status.NOT_FOUND)).toBe(true);
}, 120_000);
