// Containers in real pods for each runc-family handler: logs, exit reasons, process settings,
// security settings, OOM, ExecSync, stop timeouts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { startPodEnv, type PodEnv } from '../helpers/pod-env.ts';
import { buildLayer, busyboxEntries, file, pushImage } from '../helpers/image-builder.ts';
import {
  containerConfig,
  logFile,
  logRecords,
  runContainer,
  runPod,
  status,
  waitExited,
  waitForFile,
  type TestPod,
} from './container-env.ts';

const HANDLERS = ['runc', 'crun', 'runc-v1'];

describe('containers', () => {
  let env: PodEnv;
  let userImage: string;

  beforeAll(async () => {
    env = await startPodEnv();
    const base = await buildLayer(await busyboxEntries());
    const users = await buildLayer([
      file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\napp:x:1234:2345:app:/home/app:/bin/sh\n'),
      file('etc/group', 'root:x:0:\nappgrp:x:2345:\nextra:x:3000:app\n'),
    ]);
    await pushImage(env.registry.address, 'crid-test/busybox-user', [base, users], {
      tag: 'test',
      config: { Cmd: ['/bin/sh'], User: 'app', WorkingDir: '/tmp', Env: ['FROM_IMAGE=image', 'OVERRIDE=image'] },
    });
    userImage = `${env.registry.address}/crid-test/busybox-user:test`;
    for (const image of [env.busyboxImage, userImage]) await env.client.image.PullImage({ image: { image } });
  }, 180_000);

  afterAll(async () => {
    await env?.dispose();
  }, 120_000);

  describe.each(HANDLERS)('handler %s', (handler) => {
    let pod: TestPod;

    beforeAll(async () => {
      pod = await runPod(env, `pod-${handler}`, handler);
    }, 60_000);

    afterAll(async () => {
      if (pod) await env.client.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id });
    }, 60_000);

    const run = (name: string, script: string, extra: Record<string, unknown> = {}) =>
      runContainer(env, pod, containerConfig(env, name, script, extra));

    it('writes both streams to the log in the CRI format; exit 3 is Error', async () => {
      const id = await run('echo', 'echo hello out; echo hello err >&2; exit 3');
      const s = await waitExited(env, id);
      expect(s.exit_code).toBe(3);
      expect(s.reason).toBe('Error');
      const records = logRecords(fs.readFileSync(logFile(pod, 'echo'), 'utf8'));
      expect(records).toContainEqual(['stdout', 'F', 'hello out']);
      expect(records).toContainEqual(['stderr', 'F', 'hello err']);
      expect(records).toHaveLength(2);
      expect(BigInt(s.finished_at)).toBeGreaterThanOrEqual(BigInt(s.started_at));
    });

    it('reports exit 0 as Completed', async () => {
      const s = await waitExited(env, await run('ok', 'true'));
      expect([s.exit_code, s.reason]).toEqual([0, 'Completed']);
    });

    it('gives the process the env, working dir and numeric user it asked for', async () => {
      const id = await run('proc', 'echo "$FROM_CONFIG $(pwd) $(id -u):$(id -g)"', {
        envs: [{ key: 'FROM_CONFIG', value: Buffer.from('config value') }],
        working_dir: '/tmp',
        linux: { security_context: { run_as_user: { value: 4321 }, run_as_group: { value: 765 } } },
      });
      await waitExited(env, id);
      expect(logRecords(fs.readFileSync(logFile(pod, 'proc'), 'utf8'))).toEqual([
        ['stdout', 'F', 'config value /tmp 4321:765'],
      ]);
    });

    it('resolves the user by name and from the image USER, with the image env and workdir', async () => {
      const script = 'echo "$(id -u):$(id -g) $(id -G) $(pwd) $FROM_IMAGE $OVERRIDE"';
      const byName = await run('byname', script, {
        image: { image: userImage },
        linux: { security_context: { run_as_username: 'app' } },
      });
      const fromImage = await run('fromimage', script, {
        image: { image: userImage },
        envs: [{ key: 'OVERRIDE', value: Buffer.from('config') }],
      });
      await Promise.all([waitExited(env, byName), waitExited(env, fromImage)]);
      expect(logRecords(fs.readFileSync(logFile(pod, 'byname'), 'utf8'))[0]![2]).toBe(
        '1234:2345 2345 3000 /tmp image image',
      );
      expect(logRecords(fs.readFileSync(logFile(pod, 'fromimage'), 'utf8'))[0]![2]).toBe(
        '1234:2345 2345 3000 /tmp image config',
      );
      const s = (await status(env, byName)).status!;
      expect(s.user).toEqual({
        linux: { uid: '1234', gid: '2345', supplemental_groups: expect.arrayContaining(['2345', '3000']) },
      });
      expect(s.stop_signal).toBe('SIGTERM');
    });

    it('refuses writes to a read-only rootfs', async () => {
      const id = await run(
        'ro',
        'touch /written 2>&1 || echo "write failed"; touch /tmp/also 2>&1 || echo "tmp failed"',
        {
          linux: { security_context: { readonly_rootfs: true } },
        },
      );
      const s = await waitExited(env, id);
      expect(s.exit_code).toBe(0);
      const texts = logRecords(fs.readFileSync(logFile(pod, 'ro'), 'utf8')).map((r) => r[2]);
      expect(texts).toContain('write failed');
      expect(texts.join('\n')).toMatch(/Read-only file system/);
    });

    it('drops a capability from the effective set', async () => {
      const script = '/bin/busybox cat /proc/self/status | /bin/busybox grep CapEff';
      const full = await run('caps', script);
      const dropped = await run('nochown', script, {
        linux: { security_context: { capabilities: { drop_capabilities: ['CHOWN'] } } },
      });
      await Promise.all([waitExited(env, full), waitExited(env, dropped)]);
      const mask = (name: string) =>
        BigInt(`0x${logRecords(fs.readFileSync(logFile(pod, name), 'utf8'))[0]![2].split(/\s+/)[1]}`);
      const CAP_CHOWN = 1n;
      expect(mask('caps') & CAP_CHOWN).toBe(CAP_CHOWN);
      expect(mask('nochown') & CAP_CHOWN).toBe(0n);
      expect(mask('nochown') | CAP_CHOWN).toBe(mask('caps'));
    });

    it('reports OOMKilled when the memory limit is exceeded', async () => {
      const id = await runContainer(env, pod, {
        ...containerConfig(env, 'oom', ''),
        command: ['/bin/busybox', 'tail', '/dev/zero'],
        linux: { resources: { memory_limit_in_bytes: String(32 * 1024 * 1024) } },
      });
      const s = await waitExited(env, id);
      expect(s.exit_code).toBe(137);
      expect(s.reason).toBe('OOMKilled');
    }, 60_000);

    it('runs ExecSync with output and exit code, and times it out', async () => {
      const id = await run('exec', 'trap "exit 0" TERM; while true; do sleep 1; done');
      const res = await env.client.runtime.ExecSync({
        container_id: id,
        cmd: ['/bin/sh', '-c', 'echo out; echo err >&2; exit 7'],
        timeout: 10,
      });
      expect(Buffer.from(res.stdout).toString()).toBe('out\n');
      expect(Buffer.from(res.stderr).toString()).toBe('err\n');
      expect(res.exit_code).toBe(7);
      await expect(
        env.client.runtime.ExecSync({ container_id: id, cmd: ['/bin/sh', '-c', 'sleep 30'], timeout: 1 }),
      ).rejects.toMatchObject({
        code: 4,
        details: expect.stringContaining('timeout 1s exceeded'),
      });
      const after = await env.client.runtime.ExecSync({ container_id: id, cmd: ['/bin/busybox', 'ps'], timeout: 10 });
      expect(Buffer.from(after.stdout).toString()).not.toContain('sleep 30');
      expect(fs.readdirSync(`${env.dir}/state/io/${id}`).filter((f) => f.startsWith('exec-'))).toEqual([]);
      await env.client.runtime.StopContainer({ container_id: id, timeout: 10 });
      expect((await status(env, id)).status!.exit_code).toBe(0);
    }, 60_000);

    it('kills a process that ignores the stop signal once the timeout has passed', async () => {
      const id = await run('stubborn', 'trap "" TERM; echo ready; while true; do sleep 1; done');
      // A SIGTERM before the trap is set would end the shell.
      await waitForFile(logFile(pod, 'stubborn'), (text) => text.includes('ready'));
      const { info } = await status(env, id, true);
      const pid = JSON.parse(info.info).pid as number;
      expect(fs.existsSync(`/proc/${pid}`)).toBe(true);
      await env.client.runtime.StopContainer({ container_id: id, timeout: 1 });
      const s = (await status(env, id)).status!;
      expect([s.state, s.exit_code]).toEqual(['CONTAINER_EXITED', 137]);
      expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
      await env.client.runtime.StopContainer({ container_id: id, timeout: 1 });
      const graceful = await run('graceful', 'while true; do sleep 1; done');
      await env.client.runtime.StopContainer({ container_id: graceful, timeout: 30 });
      expect((await status(env, graceful)).status!.exit_code).toBe(143);
    }, 60_000);
  });
});
