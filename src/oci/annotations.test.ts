import { describe, expect, it } from 'vitest';
import {
  containerCriAnnotations,
  passthroughAnnotations,
  resourcesJson,
  sandboxCriAnnotations,
  sandboxSizingAnnotations,
} from './annotations.ts';
import { podConfig, resources } from '../../test/helpers/oci-requests.ts';

const Mi = 1024n * 1024n;

describe('sandboxSizingAnnotations', () => {
  it('adds the overhead to containerd keys and writes both CRI-O JSONs', () => {
    const res = resources({
      cpu_period: '100000',
      cpu_quota: '50000',
      cpu_shares: '512',
      memory_limit_in_bytes: String(256n * Mi),
    });
    const over = resources({ cpu_period: '100000', cpu_quota: '10000', memory_limit_in_bytes: String(64n * Mi) });
    expect(sandboxSizingAnnotations(res, over)).toEqual({
      'io.kubernetes.cri.sandbox-cpu-period': '100000',
      'io.kubernetes.cri.sandbox-cpu-quota': '60000',
      'io.kubernetes.cri.sandbox-cpu-shares': '512',
      'io.kubernetes.cri.sandbox-memory': '335544320',
      'io.kubernetes.cri-o.PodLinuxResources':
        '{"cpu_period":100000,"cpu_quota":50000,"cpu_shares":512,"memory_limit_in_bytes":268435456}',
      'pod-linux-resources.crio.io':
        '{"cpu_period":100000,"cpu_quota":50000,"cpu_shares":512,"memory_limit_in_bytes":268435456}',
      'io.kubernetes.cri-o.PodLinuxOverhead':
        '{"cpu_period":100000,"cpu_quota":10000,"memory_limit_in_bytes":67108864}',
      'pod-linux-overhead.crio.io': '{"cpu_period":100000,"cpu_quota":10000,"memory_limit_in_bytes":67108864}',
    });
  });

  it('adds overhead shares and rescales an overhead quota given for another period', () => {
    const res = resources({ cpu_period: '100000', cpu_quota: '200000', cpu_shares: '1024' });
    const over = resources({ cpu_period: '50000', cpu_quota: '12345', cpu_shares: '102' });
    const out = sandboxSizingAnnotations(res, over);
    expect(out['io.kubernetes.cri.sandbox-cpu-quota']).toBe('224690');
    expect(out['io.kubernetes.cri.sandbox-cpu-shares']).toBe('1126');
    expect(out['io.kubernetes.cri.sandbox-memory']).toBe('0');
  });

  it('keeps an unlimited pod unlimited', () => {
    const out = sandboxSizingAnnotations(
      resources({ cpu_quota: '-1', cpu_shares: '2' }),
      resources({ cpu_quota: '10000', cpu_period: '100000', memory_limit_in_bytes: '1000' }),
    );
    expect(out['io.kubernetes.cri.sandbox-cpu-quota']).toBe('-1');
    expect(out['io.kubernetes.cri.sandbox-cpu-period']).toBe('100000');
    expect(out['io.kubernetes.cri.sandbox-memory']).toBe('0');
  });

  it('writes resources alone when there is no overhead, and nothing when neither is sent', () => {
    const out = sandboxSizingAnnotations(resources({ memory_limit_in_bytes: '1048576' }), null);
    expect(out['io.kubernetes.cri.sandbox-memory']).toBe('1048576');
    expect(out['io.kubernetes.cri-o.PodLinuxOverhead']).toBeUndefined();
    expect(sandboxSizingAnnotations(null, null)).toEqual({});
  });

  it('keeps int64 values exact', () => {
    const out = sandboxSizingAnnotations(
      resources({ memory_limit_in_bytes: '9223372036854775000' }),
      resources({ memory_limit_in_bytes: '700' }),
    );
    expect(out['io.kubernetes.cri.sandbox-memory']).toBe('9223372036854775700');
    expect(out['io.kubernetes.cri-o.PodLinuxResources']).toBe('{"memory_limit_in_bytes":9223372036854775000}');
  });

  it('rejects a value that is not an integer, naming the field', () => {
    expect(() => sandboxSizingAnnotations(resources({ cpu_quota: 'ten' }), null)).toThrow(
      /linux\.resources\.cpu_quota/,
    );
  });
});

describe('resourcesJson', () => {
  it('writes every kind of field like Go encoding/json', () => {
    const json = resourcesJson(
      resources({
        cpuset_cpus: '0-1',
        hugepage_limits: [
          { page_size: '2MB', limit: '0' },
          { page_size: '1GB', limit: '1073741824' },
        ],
        unified: { 'memory.max': '1G', 'cpu.weight': '10' },
        memory_swap_limit_in_bytes: '5',
        oom_score_adj: '-998',
      }),
    );
    expect(json).toBe(
      '{"oom_score_adj":-998,"cpuset_cpus":"0-1","hugepage_limits":[{"page_size":"2MB"},{"page_size":"1GB","limit":1073741824}],"unified":{"cpu.weight":"10","memory.max":"1G"},"memory_swap_limit_in_bytes":5}',
    );
    expect(JSON.parse(json).cpuset_cpus).toBe('0-1');
  });
});

describe('CRI annotations', () => {
  it('marks a sandbox with its identity, log directory, image and handler', () => {
    expect(sandboxCriAnnotations('sb1', podConfig(), 'registry.k8s.io/pause:3.9', 'crun')).toEqual({
      'io.kubernetes.cri.sandbox-id': 'sb1',
      'io.kubernetes.cri.sandbox-name': 'web',
      'io.kubernetes.cri.sandbox-namespace': 'default',
      'io.kubernetes.cri.sandbox-uid': 'uid-1',
      'io.kubernetes.cri.sandbox-log-directory': '/var/log/pods/default_web_uid-1',
      'io.kubernetes.cri.image-name': 'registry.k8s.io/pause:3.9',
      'io.kubernetes.cri.podsandbox.image-name': 'registry.k8s.io/pause:3.9',
      'io.kubernetes.cri.runtime-handler': 'crun',
      'io.kubernetes.cri.container-type': 'sandbox',
    });
  });

  it('marks a container with its pod, name and image, and survives missing metadata', () => {
    const out = containerCriAnnotations('sb1', podConfig({ metadata: null }), 'app', 'busybox');
    expect(out).toEqual({
      'io.kubernetes.cri.sandbox-id': 'sb1',
      'io.kubernetes.cri.sandbox-name': '',
      'io.kubernetes.cri.sandbox-namespace': '',
      'io.kubernetes.cri.sandbox-uid': '',
      'io.kubernetes.cri.container-name': 'app',
      'io.kubernetes.cri.image-name': 'busybox',
      'io.kubernetes.cri.container-type': 'container',
    });
  });
});

describe('passthroughAnnotations', () => {
  const annotations = {
    'io.katacontainers.config.hypervisor.default_vcpus': '2',
    'io.katacontainers/odd': 'x',
    'example.com/team': 'a',
    other: 'b',
  };

  it('lets through only the keys an allow-list glob matches', () => {
    expect(passthroughAnnotations(annotations, ['io.katacontainers.*', 'example.com/t?am'])).toEqual({
      'io.katacontainers.config.hypervisor.default_vcpus': '2',
      'example.com/team': 'a',
    });
  });

  it('passes nothing with an empty list or a malformed pattern, and everything with "*"/"*/*"', () => {
    expect(passthroughAnnotations(annotations, [])).toEqual({});
    expect(passthroughAnnotations(annotations, ['[io'])).toEqual({});
    expect(Object.keys(passthroughAnnotations(annotations, ['*', '*/*'])).sort()).toEqual(
      Object.keys(annotations).sort(),
    );
    expect(passthroughAnnotations(null, ['*'])).toEqual({});
  });
});
