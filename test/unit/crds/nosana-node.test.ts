// The NosanaNode schema: which specs it accepts, how it says what is wrong with the others (the
// field, and words a GPU owner understands), the defaults it fills in, and the CRD it becomes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildCrd } from '../../../src/api/crds/crd.ts';
import {
  DEFAULT_GPU_RESOURCE_NAME,
  DEFAULT_GPUS_PER_JOB,
  DEFAULT_JOB_LIMITS,
  nosanaNodeCrd,
  nosanaNodeSpec,
  nosanaNodeStatus,
} from '../../../src/api/crds/nosana-node.ts';
import { DEFAULT_EXECUTOR_SETTINGS } from '../../../src/executor/settings.ts';

const ADDRESS = '3brMatsFV2uNaY9VDMKdC3jmpBvq1GQs1o9nvddQqKoQ';
const BASE = { market: 'nvidia-4090', keySecretRef: { name: 'node-key' } };

interface SpecCase {
  reason: string;
  spec: Record<string, unknown>;
  /** undefined: accepted; otherwise the field the error names and what it says */
  want?: { path: string; says: RegExp };
}

const cases: SpecCase[] = [
  { reason: 'a market and a key are all a node needs', spec: {} },
  { reason: 'a payout address is a Solana address', spec: { payoutAddress: ADDRESS } },
  {
    reason: 'a payout address that is not base58 of 32 bytes is refused at payoutAddress',
    spec: { payoutAddress: 'my-wallet' },
    want: { path: 'payoutAddress', says: /pattern/ },
  },
  {
    reason: 'a payout address with a character base58 lacks (0) is refused',
    spec: { payoutAddress: `0${ADDRESS.slice(1)}` },
    want: { path: 'payoutAddress', says: /pattern/ },
  },
  { reason: 'DRA alone replaces the device plugin', spec: { dra: { deviceClassName: 'gpu.nvidia.com', count: 2 } } },
  {
    reason: 'DRA beside a GPU count of the device plugin is refused at dra, saying which fields to leave unset',
    spec: { dra: { deviceClassName: 'gpu.nvidia.com' }, gpusPerJob: 2 },
    want: { path: 'dra', says: /leave gpuResourceName and gpusPerJob unset/ },
  },
  {
    reason: 'DRA beside another extended resource of the device plugin is refused at dra',
    spec: { dra: { deviceClassName: 'gpu.nvidia.com' }, gpuResourceName: 'amd.com/gpu' },
    want: { path: 'dra', says: /dra replaces the device-plugin fields/ },
  },
  {
    reason: 'a DeviceClass name must be a DNS name',
    spec: { dra: { deviceClassName: 'GPU Class' } },
    want: { path: 'dra.deviceClassName', says: /lowercase DNS name/ },
  },
  { reason: 'a DRA count of zero claims nothing and is refused', spec: { dra: { deviceClassName: 'gpu.nvidia.com', count: 0 } }, want: { path: 'dra.count', says: />=1/ } },
  { reason: 'limits as Kubernetes quantities', spec: { limits: { cpu: '500m', memory: '1.5Gi', ephemeralStorage: '100G' } } },
  { reason: 'limits in exponent form and as a bare fraction', spec: { limits: { cpu: '.5', memory: '1e9' } } },
  {
    reason: 'a CPU limit in words is refused at limits.cpu, with an example',
    spec: { limits: { cpu: 'lots' } },
    want: { path: 'limits.cpu', says: /Kubernetes quantity greater than zero, such as "4", "500m" or "16Gi"/ },
  },
  {
    reason: 'a memory limit with a unit Kubernetes does not know (GB) is refused at limits.memory',
    spec: { limits: { memory: '16GB' } },
    want: { path: 'limits.memory', says: /Kubernetes quantity/ },
  },
  {
    reason: 'a zero limit would leave job containers nothing and is refused',
    spec: { limits: { ephemeralStorage: '0Gi' } },
    want: { path: 'limits.ephemeralStorage', says: /greater than zero/ },
  },
  { reason: 'a negative limit is refused', spec: { limits: { cpu: '-1' } }, want: { path: 'limits.cpu', says: /Kubernetes quantity/ } },
  { reason: 'a limit with a space before its unit is refused', spec: { limits: { memory: '16 Gi' } }, want: { path: 'limits.memory', says: /Kubernetes quantity/ } },
  { reason: 'exposure through Ingress with a class', spec: { exposure: { baseDomain: 'nodes.example.com', ingressClassName: 'nginx' } } },
  {
    reason: 'exposure through HTTPRoute with its Gateway',
    spec: { exposure: { baseDomain: 'nodes.example.com', kind: 'HTTPRoute', gateway: { namespace: 'infra', name: 'public' } } },
  },
  {
    reason: 'an HTTPRoute exposure without a Gateway is refused at exposure.gateway',
    spec: { exposure: { baseDomain: 'nodes.example.com', kind: 'HTTPRoute' } },
    want: { path: 'exposure.gateway', says: /needs gateway/ },
  },
  {
    reason: 'a Gateway on an Ingress exposure would be ignored, so it is refused',
    spec: { exposure: { baseDomain: 'nodes.example.com', gateway: { namespace: 'infra', name: 'public' } } },
    want: { path: 'exposure.gateway', says: /only to kind HTTPRoute/ },
  },
  {
    reason: 'an Ingress class on an HTTPRoute exposure would be ignored, so it is refused',
    spec: { exposure: { baseDomain: 'n.example.com', kind: 'HTTPRoute', gateway: { namespace: 'i', name: 'g' }, ingressClassName: 'nginx' } },
    want: { path: 'exposure.ingressClassName', says: /only to kind Ingress/ },
  },
  {
    reason: 'a base domain with a scheme is not a domain',
    spec: { exposure: { baseDomain: 'https://nodes.example.com' } },
    want: { path: 'exposure.baseDomain', says: /lowercase DNS name/ },
  },
  { reason: 'an exposure kind other than Ingress and HTTPRoute is refused', spec: { exposure: { baseDomain: 'n.example.com', kind: 'LoadBalancer' } }, want: { path: 'exposure.kind', says: /Ingress|HTTPRoute/ } },
];

describe('NosanaNode spec', () => {
  for (const c of cases) {
    test(c.reason, () => {
      const parsed = nosanaNodeSpec.safeParse({ ...BASE, ...c.spec });
      if (c.want === undefined) {
        assert.ok(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues));
        return;
      }
      assert.ok(!parsed.success, 'accepted');
      const issues = parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
      const atField = issues.filter((issue) => issue.path === c.want!.path);
      assert.ok(atField.length > 0, `no issue at ${c.want.path}: ${JSON.stringify(issues)}`);
      assert.ok(
        atField.some((issue) => c.want!.says.test(issue.message)),
        `${c.want.path}: ${JSON.stringify(atField)}`,
      );
    });
  }

  test('what a spec leaves out is filled with the executor\'s own defaults', () => {
    const spec = nosanaNodeSpec.parse(BASE);
    assert.deepEqual(spec.limits, DEFAULT_EXECUTOR_SETTINGS.limits);
    assert.deepEqual(DEFAULT_JOB_LIMITS, DEFAULT_EXECUTOR_SETTINGS.limits);
    assert.equal(spec.gpuResourceName, DEFAULT_EXECUTOR_SETTINGS.gpuResourceName);
    assert.equal(spec.gpusPerJob, DEFAULT_EXECUTOR_SETTINGS.gpusPerJob);
    assert.equal(DEFAULT_GPU_RESOURCE_NAME, DEFAULT_EXECUTOR_SETTINGS.gpuResourceName);
    assert.equal(DEFAULT_GPUS_PER_JOB, DEFAULT_EXECUTOR_SETTINGS.gpusPerJob);
    assert.equal(spec.paused, false);
    assert.equal(spec.payoutAddress, undefined);
    assert.equal(spec.dra, undefined);
    assert.equal(spec.exposure, undefined);
  });

  test('a limit left out of a partial limits object keeps its default', () => {
    const spec = nosanaNodeSpec.parse({ ...BASE, limits: { memory: '64Gi' } });
    assert.deepEqual(spec.limits, { cpu: '8', memory: '64Gi', ephemeralStorage: '50Gi' });
  });

  test('an exposure names Ingress unless told otherwise, and DRA claims one device', () => {
    const spec = nosanaNodeSpec.parse({ ...BASE, exposure: { baseDomain: 'n.example.com' }, dra: { deviceClassName: 'gpu.nvidia.com' } });
    assert.equal(spec.exposure?.kind, 'Ingress');
    assert.equal(spec.dra?.count, 1);
  });
});

describe('NosanaNode status', () => {
  test('holds what the node agent writes: the run\'s start, the quit count and the last error', () => {
    const status = {
      phase: 'Running',
      nodeAddress: ADDRESS,
      currentJob: ADDRESS,
      currentRun: ADDRESS,
      startedAt: '2026-06-01T12:00:00Z',
      jobsCompleted: 3,
      jobsFailed: 1,
      jobsQuit: 2,
      earnings: '1.5',
      earningsBaseUnits: '1500000',
      lastError: 'the finish transaction failed: blockhash not found',
    };
    assert.deepEqual(nosanaNodeStatus.parse(status), status);
  });

  test('a long last error is refused rather than stored (the agent keeps it short)', () => {
    assert.equal(nosanaNodeStatus.safeParse({ lastError: 'x'.repeat(1025) }).success, false);
  });
});

describe('NosanaNode CRD', () => {
  type Schema = { properties: Record<string, Schema>; 'x-kubernetes-validations'?: { rule: string; message: string; fieldPath?: string }[]; default?: unknown };
  const crd = buildCrd(nosanaNodeCrd) as { spec: { versions: { schema: { openAPIV3Schema: Schema } }[] } };
  const spec = crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec!;

  test('kubectl get shows market, phase, node, job, completed and age; -o wide adds the reason, failed, quit and earnings', () => {
    const columns = nosanaNodeCrd.printerColumns;
    assert.deepEqual(
      columns.filter((c) => !c.priority).map((c) => [c.name, c.jsonPath]),
      [
        ['Market', '.spec.market'],
        ['Phase', '.status.phase'],
        ['Node', '.status.nodeAddress'],
        ['Job', '.status.currentJob'],
        ['Completed', '.status.jobsCompleted'],
        ['Age', '.metadata.creationTimestamp'],
      ],
    );
    assert.deepEqual(
      columns.filter((c) => c.priority === 1).map((c) => c.name),
      ['Reason', 'Failed', 'Quit', 'Earnings'],
    );
  });

  test('the API server refuses DRA beside device-plugin fields, naming spec.dra', () => {
    const rules = spec['x-kubernetes-validations'] ?? [];
    const rule = rules.find((r) => r.fieldPath === '.dra');
    assert.ok(rule, JSON.stringify(rules));
    assert.match(rule.rule, /has\(self\.dra\)/);
    assert.match(rule.rule, /self\.gpusPerJob == 1/);
    assert.match(rule.rule, /self\.gpuResourceName == 'nvidia\.com\/gpu'/);
  });

  test('the API server refuses an HTTPRoute exposure without a Gateway, naming spec.exposure.gateway', () => {
    const rules = spec.properties.exposure!['x-kubernetes-validations'] ?? [];
    assert.deepEqual(
      rules.map((r) => r.fieldPath),
      ['.gateway', '.gateway', '.ingressClassName'],
    );
    assert.ok(rules.every((r) => !('holds' in r)), 'only CEL reaches the CRD');
  });

  test('an absent limits object is defaulted whole by the API server, limit by limit', () => {
    const limits = spec.properties.limits!;
    assert.deepEqual(limits.default, {});
    assert.deepEqual(
      Object.fromEntries(Object.entries(limits.properties).map(([name, field]) => [name, field.default])),
      DEFAULT_EXECUTOR_SETTINGS.limits,
    );
  });
});
