// The run ConfigMap (owner of the run's objects, record for crash recovery) and the owner
// references it gives the other objects.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildRunConfigMap, ownedBy } from '../../../src/executor/build-run-config-map.ts';
import { JOB_ID_ANNOTATION, JOB_LABEL, NODE_LABEL, RUN_LABEL } from '../../../src/executor/labels.ts';
import { runConfigMapName } from '../../../src/executor/names.ts';
import { DEFAULT_EXECUTOR_SETTINGS } from '../../../src/executor/settings.ts';
import type { ExecutorSettings } from '../../../src/executor/settings.ts';

const JOB = '7Uq9yCqnYbTTLfqVv5rZ3gYjNpJZRsqZJ7m2iYVQmAbW';
const SETTINGS: ExecutorSettings = {
  ...DEFAULT_EXECUTOR_SETTINGS,
  namespace: 'jobs',
  operatorImage: 'op:1',
  identity: { run: 'RunAddr', node: 'NodeAddr' },
};

describe('run ConfigMap', () => {
  test('named after the job, in the settings namespace, labelled with job, run and node, holding the caller data', () => {
    const data = { phase: 'running', startTime: '1767225600000' };
    const configMap = buildRunConfigMap({ jobId: JOB, settings: SETTINGS }, data);
    assert.equal(configMap.kind, 'ConfigMap');
    assert.equal(configMap.metadata?.name, runConfigMapName(JOB));
    assert.equal(configMap.metadata?.namespace, 'jobs');
    assert.equal(configMap.metadata?.labels?.[JOB_LABEL], JOB);
    assert.equal(configMap.metadata?.labels?.[RUN_LABEL], 'RunAddr');
    assert.equal(configMap.metadata?.labels?.[NODE_LABEL], 'NodeAddr');
    assert.equal(configMap.metadata?.annotations?.[JOB_ID_ANNOTATION], JOB);
    assert.deepEqual(configMap.data, data);
    assert.notEqual(configMap.data, data, 'a copy: later changes to the caller map do not leak in');
  });

  test('it owns the run, so it is owned by nothing (even if the context carries owners)', () => {
    const configMap = buildRunConfigMap(
      { jobId: JOB, settings: SETTINGS, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'u' }] },
      {},
    );
    assert.equal(configMap.metadata?.ownerReferences, undefined);
  });
});

describe('ownedBy', () => {
  test('references the created ConfigMap by name and uid, as the controller, without blockOwnerDeletion', () => {
    const created = { metadata: { name: runConfigMapName(JOB), namespace: 'jobs', uid: '5f2c-uid' } };
    assert.deepEqual(ownedBy(created), [
      { apiVersion: 'v1', kind: 'ConfigMap', name: runConfigMapName(JOB), uid: '5f2c-uid', controller: true },
    ]);
  });

  const refused: { reason: string; metadata: { name?: string; uid?: string } | undefined }[] = [
    { reason: 'not created yet: no uid', metadata: { name: 'n' } },
    { reason: 'an empty uid', metadata: { name: 'n', uid: '' } },
    { reason: 'no metadata at all', metadata: undefined },
  ];
  for (const { reason, metadata } of refused) {
    test(`refused: ${reason}`, () => {
      assert.throws(() => ownedBy(metadata === undefined ? {} : { metadata }), /uid/);
    });
  }
});
