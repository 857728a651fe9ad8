// Keeping logs within bounds: the tail of a log on line and character boundaries, and the
// `<name>-logs` ConfigMap capped with every op getting a fair share and truncation marked.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  LOGS_TRUNCATED_ANNOTATION,
  buildLogsConfigMap,
  logsConfigMapName,
  tailWithin,
} from '../../../src/controllers/nosana-job/logs-configmap.ts';
import type { NosanaJobObject } from '../../../src/api/crds/nosana-job.ts';

const owner: NosanaJobObject = {
  apiVersion: 'nosana.io/v1alpha1',
  kind: 'NosanaJob',
  metadata: { namespace: 'team-a', name: 'train', uid: '0b5e7c9e-1111-4222-8333-944455556666' },
  spec: { market: 'gpu', deletionPolicy: 'Cancel', retries: 2, allowPublicCredentials: false },
};

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');
const lines = (count: number, prefix = 'line'): string => Array.from({ length: count }, (_, index) => `${prefix} ${index}\n`).join('');

describe('the tail of a log', () => {
  test('a log within the bound is kept whole', () => {
    assert.deepEqual(tailWithin('a\nb\n', 100), { text: 'a\nb\n', droppedBytes: 0 });
  });

  test('the cut starts at a line boundary and keeps the last lines', () => {
    const text = lines(100);
    const tail = tailWithin(text, 50);
    assert.ok(bytes(tail.text) <= 50);
    assert.ok(text.endsWith(tail.text));
    assert.ok(tail.text.startsWith('line '), `the tail ${JSON.stringify(tail.text)} should start with a whole line`);
    assert.equal(tail.droppedBytes + bytes(tail.text), bytes(text));
  });

  test('a last line longer than the bound is cut inside the line, never inside a character', () => {
    const text = `first\n${'é'.repeat(100)}`;
    const tail = tailWithin(text, 51);
    assert.ok(bytes(tail.text) <= 51);
    assert.match(tail.text, /^é+$/);
    assert.ok(!tail.text.includes('\uFFFD'));
  });
});

describe('the logs ConfigMap', () => {
  test('is named <job>-logs, lives beside the job, and the job is its controlling owner', () => {
    const configMap = buildLogsConfigMap(owner, [{ id: 'hello', logs: 'hi\n' }], 1024);
    assert.equal(configMap.metadata?.name, 'train-logs');
    assert.equal(configMap.metadata?.namespace, 'team-a');
    assert.deepEqual(configMap.metadata?.ownerReferences, [
      { apiVersion: 'nosana.io/v1alpha1', kind: 'NosanaJob', name: 'train', uid: owner.metadata?.uid, controller: true },
    ]);
    assert.deepEqual(configMap.data, { 'hello.log': 'hi\n' });
    assert.equal(configMap.metadata?.annotations?.[LOGS_TRUNCATED_ANNOTATION], undefined);
  });

  test('op ids become valid, distinct keys', () => {
    const configMap = buildLogsConfigMap(
      owner,
      [
        { id: 'step 1/a', logs: 'x' },
        { id: 'step_1_a', logs: 'y' },
        { id: '..', logs: 'z' },
      ],
      1024,
    );
    const keys = Object.keys(configMap.data ?? {});
    assert.equal(new Set(keys).size, 3);
    for (const key of keys) assert.match(key, /^[-._a-zA-Z0-9]+$/);
  });

  test('over the cap: short logs stay whole, long ones keep their tail behind a marker, the total fits', () => {
    const cap = 4096;
    const ops = [
      { id: 'short', logs: 'done\n' },
      { id: 'noisy', logs: lines(5_000, 'noisy') },
      { id: 'chatty', logs: lines(3_000, 'chatty') },
    ];
    const configMap = buildLogsConfigMap(owner, ops, cap);
    const data = configMap.data ?? {};
    const total = Object.values(data).reduce((sum, text) => sum + bytes(text), 0);
    assert.ok(total <= cap, `${total} bytes of logs should fit the ${cap}-byte cap`);
    assert.equal(data['short.log'], 'done\n');
    for (const [key, prefix, count] of [
      ['noisy.log', 'noisy', 5_000],
      ['chatty.log', 'chatty', 3_000],
    ] as const) {
      const text = data[key] ?? '';
      assert.match(text, /^\[nosana-operator: the first \d+ bytes of this log were dropped to fit the ConfigMap\]\n/);
      assert.ok(text.endsWith(`${prefix} ${count - 1}\n`), `${key} keeps its last line`);
      // Each long log got about half of what the short one left.
      assert.ok(bytes(text) > (cap - 5) / 2 - 100, `${key} got ${bytes(text)} bytes, less than its share`);
    }
    assert.equal(configMap.metadata?.annotations?.[LOGS_TRUNCATED_ANNOTATION], 'noisy.log,chatty.log');
  });

  test('a job name near the 253-character limit still gives a valid, distinct name', () => {
    const long = 'a'.repeat(250);
    const name = logsConfigMapName(long);
    assert.ok(name.length <= 253);
    assert.ok(name.endsWith('-logs'));
    assert.notEqual(name, logsConfigMapName(`${'a'.repeat(249)}b`));
  });
});
