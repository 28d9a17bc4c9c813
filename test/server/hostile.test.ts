// Every RPC with absent, empty, huge and hostile fields: each gets an answer (an error code or a
// result), crid keeps serving, and nothing is left behind.
import { afterAll, beforeAll, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { instanceNetnsPrefix, listNetns } from '../../src/network/netns.ts';
import { podConfig, startPodEnv, type PodEnv } from '../helpers/pod-env.ts';
import { requestType } from '../../src/cri/request-values.ts';
import { enumFieldPaths, pathName, requestWith, RPCS } from '../helpers/cri-enum-fields.ts';
import { clientMethod, criPackage } from '../helpers/cri-client.ts';

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
    {
      pod_sandbox_id: HUGE,
      container_id: HUGE,
      image: { image: HUGE },
      config: { metadata: metadata(HUGE), hostname: HUGE, log_directory: HUGE },
    },
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
        linux: {
          cgroup_parent: HOSTILE,
          sysctls: { [HOSTILE]: HOSTILE },
          resources: { cpu_quota: '-9223372036854775808', memory_limit_in_bytes: '9223372036854775807' },
        },
      },
      sandbox_config: { metadata: metadata(HOSTILE) },
    },
  ];
}

it('answers every RPC with bad input and keeps serving', async () => {
  const pkg = criPackage();
  const services = [pkg.runtime.v1.RuntimeService, pkg.runtime.v1.ImageService];
  const address = `unix://${env.socket}`;
  const outcomes: Record<string, number[]> = {};
  for (const Service of services) {
    const client = new Service(address, grpc.credentials.createInsecure(), {
      'grpc.max_send_message_length': 32 * 1024 * 1024,
    });
    for (const [rpc, method] of Object.entries(Service.service as grpc.ServiceDefinition)) {
      if (method.responseStream) continue;
      for (const request of requestsFor()) {
        const code = await new Promise<number>((resolve) =>
          clientMethod(client, rpc)!.call(
            client,
            request,
            { deadline: Date.now() + 20_000 },
            (err: grpc.ServiceError | null) => resolve(err ? err.code : 0),
          ),
        );
        outcomes[rpc] ??= [];
        outcomes[rpc].push(code);
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
  expect(await listNetns(instanceNetnsPrefix(path.join(env.dir, 'state')))).toEqual([]);
  const bundles = path.join(env.dir, 'state/tasks/k8s.io');
  expect(fs.existsSync(bundles) ? fs.readdirSync(bundles) : []).toEqual([]);
  // bad input is refused as such, not as an internal failure (a huge message once broke the connection)
  expect(Object.entries(outcomes).filter(([, codes]) => codes.includes(grpc.status.INTERNAL))).toEqual([]);
  expect(outcomes.RunPodSandbox!.every((c) => c === grpc.status.INVALID_ARGUMENT)).toBe(true);
  expect(
    outcomes.CreateContainer!.every((c) => c === grpc.status.INVALID_ARGUMENT || c === grpc.status.NOT_FOUND),
  ).toBe(true);
}, 120_000);

/** The gRPC status code a call ends with (0 = OK); for streams, the code the stream ends with. */
function callCode(rpc: string, stream: boolean, service: 'runtime' | 'image', request: object): Promise<number> {
  if (!stream) {
    const client = service === 'runtime' ? env.client.runtime : env.client.image;
    return client[rpc]!(request, 20_000).then(
      () => 0,
      (err: grpc.ServiceError) => err.code,
    );
  }
  return new Promise((resolve) => {
    const call = env.client.stream(rpc, request, service);
    call.on('data', () => {});
    call.on('error', () => {});
    call.on('status', (status: grpc.StatusObject) => resolve(status.code));
  });
}

it('refuses an unknown number in every enum field of every request, and stores nothing', async () => {
  await env.client.image.PullImage({ image: { image: env.busyboxImage } });
  const sandboxConfig = podConfig('enums');
  const { pod_sandbox_id: podId } = await env.client.runtime.RunPodSandbox({ config: sandboxConfig });
  const valid: Record<string, Record<string, unknown>> = {
    RunPodSandbox: { config: podConfig('enums-2') },
    CreateContainer: {
      pod_sandbox_id: podId,
      config: { metadata: { name: 'c' }, image: { image: env.busyboxImage }, command: ['sleep', '1000'], linux: {} },
      sandbox_config: sandboxConfig,
    },
    PullImage: { image: { image: env.busyboxImage }, sandbox_config: sandboxConfig },
  };
  // the request of the issue: a stop signal that is not a Signal
  const poisoned = requestWith(
    [
      { name: 'config', repeated: false },
      { name: 'stop_signal', repeated: false },
    ],
    99,
    valid.CreateContainer,
  );
  await expect(env.client.runtime.CreateContainer(poisoned)).rejects.toMatchObject({
    code: grpc.status.INVALID_ARGUMENT,
    details: expect.stringContaining('config.stop_signal'),
  });

  // kubelet's and critest's conformance: a group without a user is refused (containerd's message)
  const groupOnly = {
    ...(valid.CreateContainer!.config as object),
    linux: { security_context: { run_as_group: { value: '5' } } },
  };
  await expect(
    env.client.runtime.CreateContainer({ ...valid.CreateContainer, config: groupOnly }),
  ).rejects.toMatchObject({
    code: grpc.status.INVALID_ARGUMENT,
    details: expect.stringContaining('user group "5" is specified without user'),
  });

  const codes: Record<string, number> = {};
  for (const { service, rpc, stream } of RPCS) {
    for (const path of enumFieldPaths(requestType(service, rpc))) {
      const request = requestWith(path, 99, valid[rpc]);
      codes[`${rpc} ${pathName(path)}`] = await callCode(
        rpc,
        stream,
        service === 'RuntimeService' ? 'runtime' : 'image',
        request,
      );
    }
  }
  expect(Object.keys(codes).length).toBeGreaterThan(30);
  expect(Object.entries(codes).filter(([, code]) => code !== grpc.status.INVALID_ARGUMENT)).toEqual([]);

  // nothing was stored: the pod has no container, there is no other pod, and all of it can go
  expect((await env.client.runtime.ListContainers({})).containers).toEqual([]);
  expect((await env.client.runtime.ListPodSandbox({})).items.map((p: { id: string }) => p.id)).toEqual([podId]);
  await env.client.runtime.StopPodSandbox({ pod_sandbox_id: podId });
  await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: podId });
  expect((await env.client.runtime.ListPodSandbox({})).items).toEqual([]);
  expect(env.crid.child.exitCode).toBeNull();
  expect(await listNetns(instanceNetnsPrefix(path.join(env.dir, 'state')))).toEqual([]);
}, 120_000);

it('takes timeouts beyond what a timer holds as long waits, not as none', async () => {
  await env.client.image.PullImage({ image: { image: env.busyboxImage } });
  const sandboxConfig = podConfig('timeouts');
  const { pod_sandbox_id: podId } = await env.client.runtime.RunPodSandbox({ config: sandboxConfig });
  const config = {
    metadata: { name: 'c' },
    image: { image: env.busyboxImage },
    command: ['/bin/sh', '-c', "trap 'exit 7' TERM; while true; do sleep 1; done"],
    linux: {},
  };
  const { container_id: id } = await env.client.runtime.CreateContainer({
    pod_sandbox_id: podId,
    config,
    sandbox_config: sandboxConfig,
  });
  await env.client.runtime.StartContainer({ container_id: id });
  const forever = '9223372036854775807';

  const exec = await env.client.runtime.ExecSync({
    container_id: id,
    cmd: ['/bin/sh', '-c', 'echo hi'],
    timeout: forever,
  });
  expect(exec.stdout.toString()).toBe('hi\n');
  // the stop signal is given its time: the container's own handler ends it, not a SIGKILL
  await env.client.runtime.StopContainer({ container_id: id, timeout: forever });
  expect((await env.client.runtime.ContainerStatus({ container_id: id })).status!.exit_code).toBe(7);

  await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: podId });
  expect(env.crid.child.exitCode).toBeNull();
}, 60_000);
