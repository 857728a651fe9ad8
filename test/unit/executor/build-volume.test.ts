// PVCs: job volumes (owned by the run), shared resource caches (owned by nobody, no job label) and
// private resource copies, all sized and classed by settings.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { Resource } from '../../../src/api/job-definition/index.ts';
import {
  RESOURCE_TYPE_ANNOTATION,
  VOLUME_NAME_ANNOTATION,
  buildJobVolumeClaim,
  buildPrivateResourceClaim,
  buildResourceCacheClaim,
} from '../../../src/executor/build-volume.ts';
import { JOB_LABEL, MANAGED_BY_LABEL, OP_INDEX_LABEL, RESOURCE_CACHE_LABEL } from '../../../src/executor/labels.ts';
import { jobVolumeClaimName, privateResourceClaimName, resourceCacheClaimName } from '../../../src/executor/names.ts';
import { DEFAULT_EXECUTOR_SETTINGS } from '../../../src/executor/settings.ts';
import type { ExecutorSettings } from '../../../src/executor/settings.ts';

const JOB = '7Uq9yCqnYbTTLfqVv5rZ3gYjNpJZRsqZJ7m2iYVQmAbW';
const SETTINGS: ExecutorSettings = { ...DEFAULT_EXECUTOR_SETTINGS, namespace: 'jobs', operatorImage: 'op:1', volumeSize: '25Gi' };
const OWNER = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'run', uid: 'uid-1', controller: true }];
const HF: Resource = { type: 'HF', repo: 'org/model', target: '/models', accessToken: 'secret-token' };
const HF_MOUNT = { claimName: resourceCacheClaimName(HF), resources: [{ resource: HF, index: 0 }] };

describe('PVCs', () => {
  const rows: {
    reason: string;
    claim: (settings: ExecutorSettings) => V1PersistentVolumeClaim;
    want: { name: string; owned: boolean; jobLabel: boolean; annotations: Record<string, string> };
  }[] = [
    {
      reason: 'a job volume: <job>-<name>, owned by the run, carrying the job and the volume name as written',
      claim: (settings) => buildJobVolumeClaim({ jobId: JOB, settings, ownerReferences: OWNER }, 'matlab-data'),
      want: {
        name: jobVolumeClaimName(JOB, 'matlab-data'),
        owned: true,
        jobLabel: true,
        annotations: { [VOLUME_NAME_ANNOTATION]: 'matlab-data' },
      },
    },
    {
      reason: 'a resource cache: named by what it holds, no job label and no owner, since jobs share it and it outlives them',
      claim: (settings) => buildResourceCacheClaim(settings, HF_MOUNT),
      want: { name: resourceCacheClaimName(HF), owned: false, jobLabel: false, annotations: { [RESOURCE_TYPE_ANNOTATION]: 'HF' } },
    },
    {
      reason: "an op's private resource copy: owned by the run, labelled with the op",
      claim: (settings) => buildPrivateResourceClaim({ jobId: JOB, opIndex: 2, opId: 'fold', settings, ownerReferences: OWNER }, 0),
      want: { name: privateResourceClaimName(JOB, 2, 0), owned: true, jobLabel: true, annotations: {} },
    },
  ];
  for (const { reason, claim, want } of rows) {
    test(reason, () => {
      const pvc = claim(SETTINGS);
      assert.equal(pvc.kind, 'PersistentVolumeClaim');
      assert.equal(pvc.metadata?.name, want.name);
      assert.equal(pvc.metadata?.namespace, 'jobs');
      assert.equal(pvc.metadata?.labels?.[MANAGED_BY_LABEL], 'nosana-operator');
      assert.equal(pvc.metadata?.labels?.[JOB_LABEL], want.jobLabel ? JOB : undefined);
      assert.deepEqual(pvc.metadata?.ownerReferences, want.owned ? OWNER : undefined);
      for (const [key, value] of Object.entries(want.annotations)) assert.equal(pvc.metadata?.annotations?.[key], value, key);
      // One node per job (build-pod.ts pins Pods), so one-node access is enough for every op.
      assert.deepEqual(pvc.spec?.accessModes, ['ReadWriteOnce']);
      assert.deepEqual(pvc.spec?.resources?.requests, { storage: '25Gi' });
      assert.equal(Object.hasOwn(pvc.spec ?? {}, 'storageClassName'), false, 'no class set: the cluster default');
      assert.equal(claim({ ...SETTINGS, storageClassName: 'local-nvme' }).spec?.storageClassName, 'local-nvme');
    });
  }

  test('a private copy is labelled with its op', () => {
    const pvc = buildPrivateResourceClaim({ jobId: JOB, opIndex: 2, opId: 'fold', settings: SETTINGS }, 0);
    assert.equal(pvc.metadata?.labels?.[OP_INDEX_LABEL], '2');
  });

  test('a cache carries its hash as a label and never the credential', () => {
    const pvc = buildResourceCacheClaim(SETTINGS, HF_MOUNT);
    assert.equal(pvc.metadata?.labels?.[RESOURCE_CACHE_LABEL], resourceCacheClaimName(HF).slice('nos-cache-'.length));
    assert.ok(!JSON.stringify(pvc).includes('secret-token'));
  });

  test('a cache carries the node identity when known, so a node prunes its own', () => {
    const pvc = buildResourceCacheClaim({ ...SETTINGS, identity: { node: 'NodeAddr' } }, HF_MOUNT);
    assert.equal(pvc.metadata?.labels?.['nosana.io/node'], 'NodeAddr');
  });
});
