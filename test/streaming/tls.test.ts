// The streaming server over TLS (enable_tls_streaming with a key pair): Exec returns an https URL,
// a client that trusts the certificate runs the command, one that does not is refused.
import { afterAll, beforeAll, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { startPodEnv, type PodEnv } from '../helpers/pod-env.ts';
import { containerConfig, runContainer, runPod } from '../container/container-env.ts';
import { dialWebSocket } from './clients.ts';

const CRI = 'plugins."io.containerd.grpc.v1.cri"';
let env: PodEnv;
let container: string;
let cert: string;

beforeAll(async () => {
  env = await startPodEnv();
  const certFile = path.join(env.dir, 'stream.crt');
  const keyFile = path.join(env.dir, 'stream.key');
  await execa('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  cert = fs.readFileSync(certFile, 'utf8');
  const config = fs
    .readFileSync(env.configFile, 'utf8')
    .replace('restrict_oom_score_adj = true', 'restrict_oom_score_adj = true\n  enable_tls_streaming = true');
  fs.writeFileSync(
    env.configFile,
    `${config}\n[${CRI}.x509_key_pair_streaming]\n  tls_cert_file = "${certFile}"\n  tls_key_file = "${keyFile}"\n`,
  );
  await env.restart();
  await env.client.image.PullImage({ image: { image: env.busyboxImage } });
  const pod = await runPod(env, 'tls', 'runc');
  container = await runContainer(env, pod, containerConfig(env, 'sleeper', 'exec sleep 3600'));
}, 180_000);

afterAll(async () => {
  await env?.dispose();
}, 120_000);

it('hands out https URLs and serves exec over TLS', async () => {
  const { url } = await env.client.runtime.Exec({
    container_id: container,
    cmd: ['/bin/sh', '-c', 'echo over-tls; exit 4'],
    stdout: true,
    stderr: true,
  });
  expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/exec\//);
  const session = await dialWebSocket(url, ['v5.channel.k8s.io'], cert);
  expect(await session.closed).toBe(1000);
  expect(session.text(1)).toBe('over-tls\n');
  expect(JSON.parse(session.text(3))).toMatchObject({ details: { causes: [{ reason: 'ExitCode', message: '4' }] } });
});

it('refuses a client that does not trust the certificate', async () => {
  const { url } = await env.client.runtime.Exec({ container_id: container, cmd: ['true'], stdout: true });
  await expect(dialWebSocket(url, ['v5.channel.k8s.io'])).rejects.toThrow(/self-signed|certificate/);
});
