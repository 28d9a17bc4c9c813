// Reads the JSON report critest writes (`--ginkgo.json-report`, Ginkgo v2's format) into the
// per-spec outcomes the conformance run judges and prints.

export interface SpecOutcome {
  name: string;
  state: string;
  /** Ginkgo's failure message (crid's error as critest saw it); '' unless the spec failed. */
  failure: string;
  seconds: number;
}

export interface CritestSummary {
  passed: number;
  failed: SpecOutcome[];
  skipped: number;
}

interface GinkgoSpecReport {
  ContainerHierarchyTexts?: string[] | null;
  LeafNodeType: string;
  LeafNodeText: string;
  State: string;
  RunTime: number;
  Failure?: { Message?: string };
}

interface GinkgoSuiteReport {
  SpecReports?: GinkgoSpecReport[] | null;
}

export function specOutcomes(reportJson: string): SpecOutcome[] {
  const suites = JSON.parse(reportJson) as GinkgoSuiteReport[];
  return suites.flatMap((suite) =>
    (suite.SpecReports ?? [])
      .filter((spec) => spec.LeafNodeType === 'It' || spec.State !== 'passed')
      .map((spec) => ({
        name: [...(spec.ContainerHierarchyTexts ?? []), spec.LeafNodeText].filter(Boolean).join(' '),
        state: spec.State,
        failure: spec.State === 'passed' || spec.State === 'skipped' ? '' : (spec.Failure?.Message ?? '').trim(),
        seconds: spec.RunTime / 1e9,
      })),
  );
}

/** Counts; every state other than passed, skipped or pending (failed, panicked, timedout, …) fails. */
export function summarize(outcomes: SpecOutcome[]): CritestSummary {
  return {
    passed: outcomes.filter((o) => o.state === 'passed').length,
    failed: outcomes.filter((o) => !['passed', 'skipped', 'pending'].includes(o.state)),
    skipped: outcomes.filter((o) => o.state === 'skipped' || o.state === 'pending').length,
  };
}
