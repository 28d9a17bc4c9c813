import { describe, expect, it } from 'vitest';
import { specOutcomes, summarize } from './critest-report.ts';
import { mirrorLocation } from './critest-images.ts';

function spec(leaf: string, state: string, extra: Record<string, unknown> = {}) {
  return {
    ContainerHierarchyTexts: ['[k8s.io] Streaming', 'runtime should support streaming interfaces'],
    LeafNodeType: 'It',
    LeafNodeText: leaf,
    State: state,
    RunTime: 2_500_000_000,
    ...extra,
  };
}

describe('critest report', () => {
  it('counts specs and names each failure with its message', () => {
    const report = JSON.stringify([
      {
        SpecReports: [
          { LeafNodeType: 'BeforeSuite', LeafNodeText: '', State: 'passed', RunTime: 1 },
          spec('runtime should support exec [Conformance]', 'passed'),
          spec('runtime should support attach [Conformance]', 'failed', {
            Failure: { Message: 'Timed out after 60.000s.\n' },
          }),
          spec('benchmark', 'skipped'),
          spec('runtime should support portforward [Conformance]', 'timedout', {
            Failure: { Message: 'A node timeout occurred' },
          }),
        ],
      },
    ]);
    const summary = summarize(specOutcomes(report));
    expect(summary.passed).toBe(1);
    expect(summary.skipped).toBe(1);
    expect(summary.failed).toEqual([
      {
        name: '[k8s.io] Streaming runtime should support streaming interfaces runtime should support attach [Conformance]',
        state: 'failed',
        failure: 'Timed out after 60.000s.',
        seconds: 2.5,
      },
      {
        name: '[k8s.io] Streaming runtime should support streaming interfaces runtime should support portforward [Conformance]',
        state: 'timedout',
        failure: 'A node timeout occurred',
        seconds: 2.5,
      },
    ]);
  });

  it('reports a failed suite-level node as a failure', () => {
    const report = JSON.stringify([
      {
        SpecReports: [
          {
            LeafNodeType: 'BeforeSuite',
            LeafNodeText: '',
            State: 'failed',
            RunTime: 0,
            Failure: { Message: 'cannot connect' },
          },
        ],
      },
    ]);
    expect(summarize(specOutcomes(report)).failed.map((o) => o.failure)).toEqual(['cannot connect']);
  });
});

describe('mirror locations of upstream image names', () => {
  it('drops the registry and defaults the tag', () => {
    expect(mirrorLocation('registry.k8s.io/e2e-test-images/busybox:1.29-2')).toEqual({
      repository: 'e2e-test-images/busybox',
      tag: '1.29-2',
    });
    expect(mirrorLocation('gcr.io/k8s-staging-cri-tools/test-image-latest')).toEqual({
      repository: 'k8s-staging-cri-tools/test-image-latest',
      tag: 'latest',
    });
  });
});
