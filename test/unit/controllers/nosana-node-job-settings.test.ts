// How a NosanaNode's jobs run: the spec's placement, limits and exposure joined with the agent's
// containment into the executor's settings, with nothing set that neither side asked for.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nosanaNodeSpec } from '../../../src/api/crds/nosana-node.ts';
import type { NosanaNodeObject } from '../../../src/api/crds/nosana-node.ts';
import type { Containment } from '../../../src/controllers/nosana-node/agent-options.ts';
import { jobNamespaceOf, jobSettingsOf, placementOf } from '../../../src/controllers/nosana-node/job-settings.ts';

/** A NosanaNode as the API server stores it: the spec with its defaults applied. */
function nosanaNode(spec: Record<string, unknown> = {}, namespace = 'gpu-nodes'): NosanaNodeObject {
  return {
    apiVersion: 'nosana.io/v1alpha1',
    kind: 'NosanaNode',
    metadata: { namespace, name: 'rack-1', uid: 'uid-1' },
    spec: nosanaNodeSpec.parse({ market: 'gpu-market', keySecretRef: { name: 'node-key' }, ...spec }),
  };
}

const CONTAINMENT: Containment = {
  deniedCidrs: ['10.0.0.0/8', '169.254.0.0/16'],
  operatorImage: 'ghcr.io/example/nosana-operator:1.2.3',
  volumeSize: '20Gi',
};
const IDENTITY = { run: 'Run1111111111111111111111111111111111111111', node: 'Node111111111111111111111111111111111111111' };

describe('jobNamespaceOf', () => {
  test('spec.pods.namespace when set', () => assert.equal(jobNamespaceOf(nosanaNode({ pods: { namespace: 'gpu-jobs' } })), 'gpu-jobs'));
  test("else the NosanaNode's own namespace (which the containment then refuses)", () =>
    assert.equal(jobNamespaceOf(nosanaNode({ pods: { runtimeClassName: 'nvidia' } })), 'gpu-nodes'));
});

describe('placementOf', () => {
  test('device plugin by default: the resource name and count, nothing else', () => {
    assert.deepEqual(placementOf(nosanaNode()), { gpuResourceName: 'nvidia.com/gpu', gpusPerJob: 1 });
  });

  test('DRA, a node selector and tolerations when the spec sets them', () => {
    const tolerations = [{ key: 'nvidia.com/gpu', operator: 'Exists' as const, effect: 'NoSchedule' as const }];
    const placement = placementOf(
      nosanaNode({
        dra: { deviceClassName: 'gpu.nvidia.com', count: 2 },
        pods: { nodeSelector: { 'nvidia.com/gpu.product': 'A100' }, tolerations },
      }),
    );
    assert.deepEqual(placement, {
      gpuResourceName: 'nvidia.com/gpu',
      gpusPerJob: 1,
      dra: { deviceClassName: 'gpu.nvidia.com', count: 2 },
      nodeSelector: { 'nvidia.com/gpu.product': 'A100' },
      tolerations,
    });
  });
});

describe('jobSettingsOf', () => {
  test('the least spec: its placement and default limits, the containment, the identity; no optional field set', () => {
    const settings = jobSettingsOf(nosanaNode({ pods: { namespace: 'gpu-jobs' } }), CONTAINMENT, IDENTITY);
    assert.deepEqual(settings, {
      gpuResourceName: 'nvidia.com/gpu',
      gpusPerJob: 1,
      namespace: 'gpu-jobs',
      volumeSize: '20Gi',
      limits: { cpu: '8', memory: '32Gi', ephemeralStorage: '50Gi' },
      deniedCidrs: ['10.0.0.0/8', '169.254.0.0/16'],
      operatorImage: 'ghcr.io/example/nosana-operator:1.2.3',
      identity: IDENTITY,
    });
  });

  test("the denied ranges are the settings' own copy: a run cannot change the agent's containment", () => {
    const settings = jobSettingsOf(nosanaNode(), CONTAINMENT, IDENTITY);
    assert.notEqual(settings.deniedCidrs, CONTAINMENT.deniedCidrs);
    settings.deniedCidrs.push('0.0.0.0/0');
    assert.deepEqual(CONTAINMENT.deniedCidrs, ['10.0.0.0/8', '169.254.0.0/16']);
  });

  test('every spec field reaches the settings: storage and runtime classes, limits, an Ingress exposure with its class', () => {
    const settings = jobSettingsOf(
      nosanaNode({
        pods: { namespace: 'gpu-jobs', storageClassName: 'fast-ssd', runtimeClassName: 'nvidia' },
        limits: { cpu: '4', memory: '16Gi', ephemeralStorage: '20Gi' },
        exposure: { baseDomain: 'nodes.example.com', ingressClassName: 'nginx' },
      }),
      CONTAINMENT,
      IDENTITY,
    );
    assert.equal(settings.storageClassName, 'fast-ssd');
    assert.equal(settings.runtimeClassName, 'nvidia');
    assert.deepEqual(settings.limits, { cpu: '4', memory: '16Gi', ephemeralStorage: '20Gi' });
    assert.deepEqual(settings.exposure, { baseDomain: 'nodes.example.com', kind: 'Ingress', ingressClass: 'nginx' });
    assert.equal('networkPeers' in settings, false);
  });

  test('an HTTPRoute exposure carries its Gateway and no ingress class', () => {
    const settings = jobSettingsOf(
      nosanaNode({ exposure: { baseDomain: 'nodes.example.com', kind: 'HTTPRoute', gateway: { namespace: 'gw', name: 'public' } } }),
      CONTAINMENT,
      IDENTITY,
    );
    assert.deepEqual(settings.exposure, {
      baseDomain: 'nodes.example.com',
      kind: 'HTTPRoute',
      gateway: { namespace: 'gw', name: 'public' },
    });
  });

  const peers: { reason: string; containment: Partial<Containment>; want: unknown }[] = [
    {
      reason: 'the exposure namespace alone',
      containment: { exposureNamespace: 'ingress-nginx' },
      want: { exposureNamespace: 'ingress-nginx' },
    },
    {
      reason: "the agent's Pods alone",
      containment: { agentPods: { namespace: 'nosana-system', podLabels: { app: 'nosana-node-agent' } } },
      want: { agent: { namespace: 'nosana-system', podLabels: { app: 'nosana-node-agent' } } },
    },
    {
      reason: 'both',
      containment: { exposureNamespace: 'gateways', agentPods: { namespace: 'nosana-system', podLabels: { app: 'agent' } } },
      want: { exposureNamespace: 'gateways', agent: { namespace: 'nosana-system', podLabels: { app: 'agent' } } },
    },
  ];
  for (const { reason, containment, want } of peers) {
    test(`network peers from the containment: ${reason}`, () => {
      const settings = jobSettingsOf(nosanaNode(), { ...CONTAINMENT, ...containment }, IDENTITY);
      assert.deepEqual(settings.networkPeers, want);
    });
  }

  test('the placement in the settings is the one the capacity check counted', () => {
    const node = nosanaNode({ dra: { deviceClassName: 'gpu.nvidia.com', count: 4 }, pods: { nodeSelector: { pool: 'gpu' } } });
    const settings = jobSettingsOf(node, CONTAINMENT, IDENTITY);
    const placement = placementOf(node);
    for (const field of Object.keys(placement) as (keyof typeof placement)[]) assert.deepEqual(settings[field], placement[field], field);
  });
});
