// Where a NosanaNode's jobs may run whatever its spec says: never beside a key Secret, only in a
// namespace an administrator marked for jobs, never above the agent's ceilings; and the Pod
// Security labels a job namespace still lacks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Namespace } from '@kubernetes/client-node';
import {
  JOB_NAMESPACE_ALLOWED,
  JOB_NAMESPACE_LABEL,
  JOB_NAMESPACE_POD_SECURITY,
  missingPodSecurityLabels,
  placementRefusal,
} from '../../../src/controllers/nosana-node/containment.ts';
import type { PlacementFacts } from '../../../src/controllers/nosana-node/containment.ts';

function namespace(name: string, labels?: Record<string, string>): V1Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(labels === undefined ? {} : { labels }) } };
}

const MARKED = { [JOB_NAMESPACE_LABEL]: JOB_NAMESPACE_ALLOWED };
const LIMITS = { cpu: '8', memory: '32Gi', ephemeralStorage: '50Gi' };

function facts(change: Partial<PlacementFacts> = {}): PlacementFacts {
  return {
    jobNamespace: 'gpu-jobs',
    namespace: namespace('gpu-jobs', MARKED),
    nodeNamespaces: new Set(['gpu-nodes']),
    limits: LIMITS,
    ...change,
  };
}

describe('placementRefusal: the job namespace', () => {
  const cases: { reason: string; facts: PlacementFacts; want: RegExp | undefined }[] = [
    {
      reason: 'a marked namespace holding no NosanaNode: allowed',
      facts: facts(),
      want: undefined,
    },
    {
      reason: 'a namespace holding a NosanaNode (and so its key Secret) is refused, even marked, naming it and the label to use elsewhere',
      facts: facts({ jobNamespace: 'gpu-nodes', namespace: namespace('gpu-nodes', MARKED) }),
      want: /^job Pods may not run in namespace gpu-nodes: it holds a NosanaNode .*set spec\.pods\.namespace to a namespace labelled nosana\.io\/jobs=allowed$/,
    },
    {
      reason: 'a namespace that does not exist',
      facts: facts({ namespace: undefined }),
      want: /^namespace gpu-jobs \(spec\.pods\.namespace\) does not exist$/,
    },
    {
      reason: 'an unlabelled namespace: not marked for jobs, saying which label an administrator puts on it',
      facts: facts({ namespace: namespace('gpu-jobs') }),
      want: /^namespace gpu-jobs \(spec\.pods\.namespace\) is not marked for jobs: an administrator labels it nosana\.io\/jobs=allowed/,
    },
    {
      reason: 'the label with another value: not marked',
      facts: facts({ namespace: namespace('gpu-jobs', { [JOB_NAMESPACE_LABEL]: 'true' }) }),
      want: /is not marked for jobs/,
    },
    {
      reason: 'the value under another label: not marked',
      facts: facts({ namespace: namespace('gpu-jobs', { 'nosana.io/job': JOB_NAMESPACE_ALLOWED }) }),
      want: /is not marked for jobs/,
    },
  ];
  for (const { reason, facts: input, want } of cases) {
    test(reason, () => {
      const refusal = placementRefusal(input);
      if (want === undefined) assert.equal(refusal, undefined);
      else assert.match(refusal ?? '', want);
    });
  }
});

describe("placementRefusal: the agent's ceilings", () => {
  const cases: { reason: string; limits?: Partial<typeof LIMITS>; ceilings?: PlacementFacts['ceilings']; want: RegExp | undefined }[] = [
    { reason: 'no ceilings: any limit is allowed', limits: { cpu: '1000', memory: '1Ei' }, want: undefined },
    { reason: 'limits equal to the ceilings: allowed', ceilings: { ...LIMITS }, want: undefined },
    {
      reason: 'equal written another way (32Gi as 32768Mi): allowed',
      ceilings: { memory: '32768Mi', cpu: '8000m' },
      want: undefined,
    },
    { reason: 'limits below the ceilings: allowed', ceilings: { cpu: '16', memory: '64Gi', ephemeralStorage: '100Gi' }, want: undefined },
    {
      reason: 'cpu above its ceiling, naming the field, the limit and the ceiling',
      ceilings: { cpu: '4' },
      want: /^spec\.limits\.cpu 8 is above the agent's ceiling 4$/,
    },
    {
      reason: 'memory above its ceiling by less than a unit (32Gi over 32G)',
      ceilings: { memory: '32G' },
      want: /^spec\.limits\.memory 32Gi is above the agent's ceiling 32G$/,
    },
    {
      reason: 'ephemeral storage above its ceiling',
      ceilings: { ephemeralStorage: '20Gi' },
      want: /^spec\.limits\.ephemeralStorage 50Gi is above the agent's ceiling 20Gi$/,
    },
    {
      reason: 'a ceiling for one field bounds only that field',
      limits: { cpu: '64' },
      ceilings: { memory: '64Gi' },
      want: undefined,
    },
    {
      reason: 'every field above its ceiling: each named',
      ceilings: { cpu: '1', memory: '1Gi', ephemeralStorage: '1Gi' },
      want: /^spec\.limits\.cpu .*; spec\.limits\.memory .*; spec\.limits\.ephemeralStorage /,
    },
    {
      reason: 'a limit the agent cannot compare is refused, not let through',
      limits: { cpu: '1e999999999' },
      ceilings: { cpu: '8' },
      want: /^spec\.limits\.cpu "1e999999999" is not a quantity/,
    },
    {
      reason: 'a ceiling the agent cannot compare refuses rather than bounding nothing',
      ceilings: { memory: '1e999' },
      want: /^the agent's ceiling for spec\.limits\.memory, "1e999", is not a quantity/,
    },
  ];
  for (const { reason, limits, ceilings, want } of cases) {
    test(reason, () => {
      const refusal = placementRefusal(facts({ limits: { ...LIMITS, ...limits }, ...(ceilings === undefined ? {} : { ceilings }) }));
      if (want === undefined) assert.equal(refusal, undefined);
      else assert.match(refusal ?? '', want);
    });
  }

  test('the namespace is judged before the limits: one reason at a time, the one a person fixes first', () => {
    const refusal = placementRefusal(facts({ namespace: undefined, ceilings: { cpu: '1' } }));
    assert.match(refusal ?? '', /does not exist$/);
  });
});

describe('missingPodSecurityLabels', () => {
  const enforce = 'pod-security.kubernetes.io/enforce';
  const warn = 'pod-security.kubernetes.io/warn';
  const cases: { reason: string; labels?: Record<string, string>; want: Record<string, string> | undefined }[] = [
    { reason: 'no labels at all: both', want: { [enforce]: 'baseline', [warn]: 'restricted' } },
    { reason: 'both already: nothing to apply', labels: { ...MARKED, ...JOB_NAMESPACE_POD_SECURITY }, want: undefined },
    { reason: 'only enforce: warn is added', labels: { [enforce]: 'baseline' }, want: { [warn]: 'restricted' } },
    {
      reason: 'enforce loosened to privileged: set back to baseline',
      labels: { [enforce]: 'privileged', [warn]: 'restricted' },
      want: { [enforce]: 'baseline' },
    },
    {
      reason: 'an administrator’s stricter level is kept: enforce restricted is never lowered to baseline',
      labels: { [enforce]: 'restricted', [warn]: 'restricted' },
      want: undefined,
    },
    {
      reason: 'other labels are not touched',
      labels: { ...MARKED, team: 'gpu' },
      want: { [enforce]: 'baseline', [warn]: 'restricted' },
    },
  ];
  for (const { reason, labels, want } of cases) {
    test(reason, () => assert.deepEqual(missingPodSecurityLabels(namespace('gpu-jobs', labels)), want));
  }
});
