// The demo's closing account: the result CID, the cost as the chain computed it (shown as price ×
// seconds only when it is that product), each op's exit code and its logs; and, when it gave up
// waiting, where the job, the node and the job Pods stood.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NosanaJobObject, NosanaJobStatus } from '../../../src/api/crds/nosana-job.ts';
import type { NosanaNodeObject } from '../../../src/api/crds/nosana-node.ts';
import { SIMULATED_NOTICE, costLines, resultSummary, whereThingsStood } from '../../../src/demo/summary.ts';

const CID = 'QmaBwYWGcmC4D9VxAj1vmYgkEGQUb5AGTY3AkmNyEMTziy';

function job(status: NosanaJobStatus): NosanaJobObject {
  return {
    apiVersion: 'nosana.io/v1alpha1',
    kind: 'NosanaJob',
    metadata: { name: 'story', namespace: 'nosana-demo' },
    spec: { market: 'demo', deletionPolicy: 'Cancel', retries: 2, allowPublicCredentials: false },
    status,
  };
}

const SUCCEEDED: NosanaJobStatus = {
  phase: 'Succeeded',
  ipfsResult: CID,
  price: '0.0001',
  priceBaseUnits: '100',
  cost: '0.0004',
  costBaseUnits: '400',
  duration: 4,
  ops: [{ id: 'tinyllama', status: 'success', exitCode: 0, logTail: 'the tail\n' }],
};

describe('the cost', () => {
  const cases: { reason: string; status: NosanaJobStatus; want: RegExp[] }[] = [
    {
      reason: 'price × seconds when that is what the chain charged, with the deposit and the refund',
      status: SUCCEEDED,
      want: [/^cost: +0\.0004 NOS = 0\.0001 NOS\/s × 4 s /m, /^deposit: +0\.06 NOS = price × the 600 s timeout/m, /0\.0596 NOS went back/],
    },
    {
      reason: 'capped at the timeout: the product uses the timeout',
      status: { ...SUCCEEDED, duration: 700, cost: '0.06', costBaseUnits: '60000' },
      want: [/^cost: +0\.06 NOS = 0\.0001 NOS\/s × 600 s /m],
    },
    {
      reason: 'a cost that is not the product is shown as it is, never made to add up',
      status: { ...SUCCEEDED, costBaseUnits: '401', cost: '0.000401' },
      want: [/^cost: +0\.000401 NOS \(price 0\.0001 NOS\/s, ran 4 s\)$/m],
    },
    {
      reason: 'a cost without its price or duration',
      status: { phase: 'Succeeded', costBaseUnits: '400', cost: '0.0004' },
      want: [/^cost: +0\.0004 NOS$/],
    },
    { reason: 'no cost recorded', status: { phase: 'Failed' }, want: [/^cost: +not recorded$/] },
  ];
  for (const { reason, status, want } of cases) {
    test(reason, () => {
      const text = costLines(job(status), 600).join('\n');
      for (const pattern of want) assert.match(text, pattern);
    });
  }
});

describe('the result summary', () => {
  test('the CID, the cost, what the node counts, each op with its exit code, and the full logs from the ConfigMap', () => {
    const text = resultSummary({
      job: job(SUCCEEDED),
      timeoutSeconds: 600,
      logs: [{ op: 'tinyllama', text: 'line one\nline two\n' }],
      logsSource: 'nosana-demo/story-logs',
      nodeEarnings: { name: 'demo-node', nos: '0.0004' },
    });
    assert.match(text, /^The job Succeeded\.$/m);
    assert.match(text, new RegExp(`^result CID: +${CID} `, 'm'));
    assert.match(text, /^node: +NosanaNode demo-node counts 0\.0004 NOS earned/m);
    assert.match(text, /^op tinyllama: success, exit code 0$/m);
    assert.match(text, /^logs of op tinyllama \(ConfigMap nosana-demo\/story-logs\):\n {4}│ line one\n {4}│ line two$/m);
    assert.doesNotMatch(text, /the tail/, 'the full logs replace the status tail');
  });

  test('without the ConfigMap, the status log tails stand in, said to be tails', () => {
    const text = resultSummary({ job: job(SUCCEEDED), timeoutSeconds: 600, logs: [] });
    assert.match(text, /^logs of op tinyllama \(the status log tail\):\n {4}│ the tail$/m);
    assert.doesNotMatch(text, /^node:/m);
  });

  test('what was simulated is said plainly', () => {
    assert.match(SIMULATED_NOTICE, /KWOK/);
    assert.match(SIMULATED_NOTICE, /canned/);
    assert.match(SIMULATED_NOTICE, /nothing was paid on mainnet/);
  });
});

describe('where things stood', () => {
  test('the job and the node with their Ready reasons, and each Pod with where it runs', () => {
    const node: NosanaNodeObject = {
      metadata: { name: 'demo-node' },
      spec: {} as NosanaNodeObject['spec'],
      status: {
        phase: 'Idle',
        conditions: [
          { type: 'Ready', status: 'False', reason: 'NoCapacity', message: 'no GPU free', lastTransitionTime: '2026-01-01T00:00:00Z' },
        ],
      },
    };
    const text = whereThingsStood(job({ phase: 'Queued' }), node, [
      { metadata: { name: 'p0' }, spec: { containers: [], nodeName: 'gpu-node-0' }, status: { phase: 'Running' } },
      { metadata: { name: 'p1' }, spec: { containers: [] }, status: { phase: 'Pending' } },
    ]);
    assert.deepEqual(text.split('\n'), [
      '  NosanaJob story: Queued',
      '  NosanaNode demo-node: Idle (NoCapacity: no GPU free)',
      '  Pod p0: Running on gpu-node-0',
      '  Pod p1: Pending, not scheduled',
    ]);
  });
  test('what was not created yet', () => {
    assert.deepEqual(whereThingsStood(undefined, undefined, []).split('\n'), [
      '  NosanaJob: not created yet',
      '  NosanaNode: not created yet',
      '  job Pods: none',
    ]);
  });
});
