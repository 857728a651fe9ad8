// What `kubectl nosana result` and `logs` print for an ended job: Nosana's CLI wording per op, the
// full logs read back from the controller's logs ConfigMap (whatever its keys became), and the
// status tails when that is gone.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NosanaJobObject } from '../../../src/api/crds/nosana-job.ts';
import { buildLogsConfigMap, opLogKeys } from '../../../src/controllers/nosana-job/logs-configmap.ts';
import { EXIT_UNAVAILABLE } from '../../../src/plugin/errors.ts';
import { formatLog, logsFromConfigMap, logsFromStatus, selectOp } from '../../../src/plugin/job-logs.ts';
import { resultText, secondsBetween } from '../../../src/plugin/result-text.ts';

const STORY = 'Tony the tiny hawk lived on a windowsill.\nHe learned to fly in a storm.\nThe end.\n';

function job(status: NosanaJobObject['status']): NosanaJobObject {
  return {
    apiVersion: 'nosana.io/v1alpha1',
    kind: 'NosanaJob',
    metadata: { name: 'story', namespace: 'team', uid: 'uid-1' },
    spec: { market: 'gpu', deletionPolicy: 'Cancel', retries: 2, allowPublicCredentials: false },
    ...(status === undefined ? {} : { status }),
  };
}

const succeeded = job({
  phase: 'Succeeded',
  jobAddress: '4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T',
  node: '7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU',
  ipfsResult: 'QmResultCid',
  costBaseUnits: '20',
  cost: '0.00002',
  duration: 2,
  ops: [
    {
      id: 'tinyllama',
      status: 'success',
      exitCode: 0,
      startTime: '2026-05-01T12:00:00.000Z',
      endTime: '2026-05-01T12:00:02.013Z',
      logTail: 'The end.\n',
    },
  ],
});

describe('the result text', () => {
  test("the job's facts, then each op as Nosana's CLI says it: the step and its time, the full log, the exit", () => {
    assert.equal(
      resultText(succeeded, [{ id: 'tinyllama', logs: STORY }]),
      [
        'Job:      4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T',
        'Status:   Succeeded',
        'Node:     7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU',
        'Result:   QmResultCid',
        'Duration: 2s',
        'Cost:     0.00002 NOS',
        '',
        '- Executed step tinyllama in 2.013s',
        'Tony the tiny hawk lived on a windowsill.',
        'He learned to fly in a storm.',
        'The end.',
        'Exited with status success with code 0',
        '',
      ].join('\n'),
    );
  });

  test('without full logs, the status tail; an op without times or exit code says only what is known', () => {
    const failed = job({
      phase: 'Failed',
      ops: [
        { id: 'a', status: 'success', exitCode: 0, logTail: 'ok\n' },
        { id: 'b', status: 'stopped' },
      ],
    });
    const text = resultText(failed, []);
    assert.match(
      text,
      /^Status: {3}Failed\n\n- Executed step a\nok\nExited with status success with code 0\n\n- Executed step b\nExited with status stopped\n$/,
    );
  });

  test('seconds between two times, to the millisecond; unknown or backwards times give none', () => {
    assert.equal(secondsBetween('2026-05-01T12:00:00Z', '2026-05-01T12:01:30.5Z'), '90.5');
    assert.equal(secondsBetween(undefined, '2026-05-01T12:00:00Z'), undefined);
    assert.equal(secondsBetween('2026-05-01T12:00:01Z', '2026-05-01T12:00:00Z'), undefined);
  });
});

describe('the logs ConfigMap read back by op', () => {
  const cases: { reason: string; ops: string[] }[] = [
    { reason: 'plain op ids', ops: ['tinyllama', 'create-volume'] },
    { reason: 'ids with characters a key cannot hold, and two that become the same key', ops: ['run/one', 'run one', 'ünïcode'] },
    { reason: 'an id that sanitises to nothing', ops: ['', 'x'] },
  ];
  for (const { reason, ops } of cases) {
    test(`${reason}: every op gets its own log back from the controller's ConfigMap`, () => {
      const owner = job(undefined);
      const logs = ops.map((id, index) => ({ id, logs: `log of op ${index}\n` }));
      const configMap = buildLogsConfigMap(owner, logs, 1024 * 1024);
      assert.deepEqual(Object.keys(configMap.data ?? {}).sort(), [...opLogKeys(ops)].sort(), 'the same keys as the controller writes');
      // the API server returns data keys sorted: the order must come from the status, not the map
      const sortedData = Object.fromEntries(Object.entries(configMap.data ?? {}).sort(([a], [b]) => (a < b ? 1 : -1)));
      assert.deepEqual(logsFromConfigMap(sortedData, ops), logs);
    });
  }

  test('keys of no op the status names (status.ops is capped) follow, named by their key', () => {
    assert.deepEqual(logsFromConfigMap({ 'b.log': 'B', 'extra.log': 'E', 'a.log': 'A' }, ['a', 'b']), [
      { id: 'a', logs: 'A' },
      { id: 'b', logs: 'B' },
      { id: 'extra', logs: 'E' },
    ]);
  });

  test('the status tails when the ConfigMap is gone', () => {
    assert.deepEqual(logsFromStatus(succeeded), [{ id: 'tinyllama', logs: 'The end.\n' }]);
    assert.deepEqual(logsFromStatus(job(undefined)), []);
  });

  test('--op narrows to one op; an op without logs is named with the ops there are (exit 3)', () => {
    const logs = [
      { id: 'a', logs: 'A' },
      { id: 'b', logs: 'B' },
    ];
    assert.deepEqual(selectOp(logs, 'b', 'story'), [{ id: 'b', logs: 'B' }]);
    assert.deepEqual(selectOp(logs, undefined, 'story'), logs);
    assert.throws(
      () => selectOp(logs, 'c', 'story'),
      (error: Error & { exitCode?: number }) =>
        error.exitCode === EXIT_UNAVAILABLE && error.message === 'job "story" has no logs of op "c": its ops with logs are a, b',
    );
  });

  test('lines as printed: prefixed with [op] when several ops are shown, one newline at the end', () => {
    assert.equal(formatLog({ id: 'a', logs: 'one\ntwo\n' }, false), 'one\ntwo\n');
    assert.equal(formatLog({ id: 'a', logs: 'one\n\ntwo' }, true), '[a] one\n[a] \n[a] two\n');
    assert.equal(formatLog({ id: 'a', logs: '' }, true), '');
  });
});
