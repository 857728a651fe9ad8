// The job's one GPU ResourceClaim in DRA mode: every GPU Pod of the job shares it, as every op of
// a Nosana job sees all of the node's GPUs (NODE.md §2.3).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildOpPod } from '../../../src/executor/build-pod.ts';
import { buildResourceClaim } from '../../../src/executor/build-resource-claim.ts';
import { JOB_LABEL } from '../../../src/executor/labels.ts';
import { resourceClaimName } from '../../../src/executor/names.ts';
import { DEFAULT_EXECUTOR_SETTINGS } from '../../../src/executor/settings.ts';
import type { ExecutorSettings } from '../../../src/executor/settings.ts';

const JOB = '7Uq9yCqnYbTTLfqVv5rZ3gYjNpJZRsqZJ7m2iYVQmAbW';
const DRA: ExecutorSettings = {
  ...DEFAULT_EXECUTOR_SETTINGS,
  namespace: 'jobs',
  operatorImage: 'op:1',
  dra: { deviceClassName: 'gpu.nvidia.com', count: 4 },
};

describe('ResourceClaim', () => {
  test('resource.k8s.io/v1, one request of exactly `count` devices of the class, owned by the run', () => {
    const owner = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'run', uid: 'u' }];
    const claim = buildResourceClaim({ jobId: JOB, settings: DRA, ownerReferences: owner });
    assert.equal(claim.apiVersion, 'resource.k8s.io/v1');
    assert.equal(claim.kind, 'ResourceClaim');
    assert.equal(claim.metadata?.name, resourceClaimName(JOB));
    assert.equal(claim.metadata?.namespace, 'jobs');
    assert.equal(claim.metadata?.labels?.[JOB_LABEL], JOB);
    assert.deepEqual(claim.metadata?.ownerReferences, owner);
    assert.deepEqual(claim.spec.devices?.requests, [
      { name: 'gpu', exactly: { deviceClassName: 'gpu.nvidia.com', allocationMode: 'ExactCount', count: 4 } },
    ]);
  });

  test('every GPU op of the job references this same claim', () => {
    const claim = buildResourceClaim({ jobId: JOB, settings: DRA });
    for (const opIndex of [0, 1, 2]) {
      const pod = buildOpPod(
        { jobId: JOB, opIndex, opId: `op${opIndex}`, settings: DRA },
        { args: { image: 'x', gpu: true }, definition: {} },
      );
      assert.equal(pod.spec?.resourceClaims?.[0]?.resourceClaimName, claim.metadata?.name);
    }
  });

  test('device-plugin mode has no claim', () => {
    const { dra: _none, ...devicePlugin } = DRA;
    assert.throws(() => buildResourceClaim({ jobId: JOB, settings: devicePlugin }), /device-plugin/);
  });
});
