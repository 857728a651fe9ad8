// The result document (a node's FlowState): lenient parsing, per-op outcomes and logs, and the
// phase a finished job ends in.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ResultDocumentError, judgeResult, parseResultDocument } from '../../../src/controllers/nosana-job/result.ts';
import type { OpOutcome, ResultDocument } from '../../../src/controllers/nosana-job/result.ts';
import { STATUS_OPS_MAX_BYTES, opSummaries } from '../../../src/controllers/nosana-job/status-ops.ts';

const START = Date.UTC(2026, 0, 1, 0, 0, 0);

function opState(id: string, status: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    operationId: id,
    group: id,
    providerId: 'c0ffee',
    status,
    startTime: START,
    endTime: START + 12_000,
    exitCode: status === 'success' ? 0 : 1,
    logs: [],
    ...extra,
  };
}

const op = (id: string, status: string, exitCode?: number): OpOutcome => ({
  id,
  status,
  logs: '',
  ...(exitCode === undefined ? {} : { exitCode }),
});
const flow = (status: string, ops: OpOutcome[], errors: string[] = []): ResultDocument => ({ status, ops, errors });

describe('parsing the result document', () => {
  test('ops keep id, status, exit code, ISO start/end and extracted results; logs are joined in order', () => {
    const document = parseResultDocument({
      status: 'success',
      startTime: START,
      endTime: START + 13_000,
      secrets: {},
      opStates: [
        opState('hello', 'success', {
          logs: [
            { type: 'stdout', log: 'hello ', timestamp: '2026-01-01T00:00:01Z' },
            { type: 'stdout', log: 'world\n' },
            { type: 'stderr', log: 'warning: x\n' },
          ],
          results: { speed: ['"speed":12.3', '12.3'] },
        }),
      ],
    });
    assert.equal(document.status, 'success');
    assert.deepEqual(document.ops, [
      {
        id: 'hello',
        status: 'success',
        exitCode: 0,
        startTime: '2026-01-01T00:00:00.000Z',
        endTime: '2026-01-01T00:00:12.000Z',
        results: { speed: ['"speed":12.3', '12.3'] },
        logs: 'hello world\nwarning: x\n',
      },
    ]);
  });

  test('node errors get a line of their own, marked [node]', () => {
    const [parsed] = parseResultDocument({
      status: 'failed',
      opStates: [
        opState('pull', 'failed', {
          exitCode: 2,
          logs: [
            { type: 'stdout', log: 'partial' },
            { type: 'nodeerr', log: 'image pull failed' },
            { type: 'stdout', log: 'next\n' },
          ],
        }),
      ],
    }).ops;
    assert.equal(parsed?.logs, 'partial\n[node] image pull failed\nnext\n');
  });

  test('older documents without times, exit codes, logs or results still parse', () => {
    const document = parseResultDocument({
      status: 'success',
      opStates: [{ operationId: 'a', status: 'success', exitCode: null, endTime: null }],
    });
    assert.deepEqual(document.ops, [{ id: 'a', status: 'success', logs: '' }]);
    assert.deepEqual(document.errors, []);
  });

  test('result values are text, and only the latest 32 of a long accumulation are kept', () => {
    const many = Array.from({ length: 40 }, (_, index) => `m${index}`);
    const [parsed] = parseResultDocument({
      status: 'success',
      opStates: [opState('r', 'success', { results: { many, single: 'invalid regex', object: [{ a: 1 }] } })],
    }).ops;
    assert.deepEqual(parsed?.results?.many, many.slice(-32));
    assert.deepEqual(parsed?.results?.single, ['invalid regex']);
    assert.deepEqual(parsed?.results?.object, ['{"a":1}']);
  });

  test('anything else is refused, naming what is missing', () => {
    for (const value of [null, 'text', {}, { status: 'success' }, { status: 'success', opStates: [{ status: 'success' }] }]) {
      assert.throws(
        () => parseResultDocument(value),
        (error: unknown) => error instanceof ResultDocumentError && /not a Nosana result document/.test(error.message),
      );
    }
    assert.throws(() => parseResultDocument({ status: 'success', opStates: [{ status: 'x' }] }), /opStates\.0\.operationId/);
  });
});

describe('judging a finished job', () => {
  test('every op succeeded → Succeeded', () => {
    const verdict = judgeResult(flow('success', [op('a', 'success', 0), op('b', 'success', 0)]), 'node');
    assert.deepEqual([verdict.phase, verdict.reason, verdict.outcome], ['Succeeded', 'Succeeded', 'Succeeded']);
  });

  test('a failed op → Failed/OpFailed naming the op and its exit code, even when the flow says success', () => {
    const verdict = judgeResult(
      flow('success', [op('prepare', 'success', 0), op('train', 'failed', 137), op('eval', 'failed', 1)]),
      'node',
    );
    assert.deepEqual([verdict.phase, verdict.reason, verdict.outcome], ['Failed', 'OpFailed', 'Failed']);
    assert.match(verdict.message, /op "train" failed with exit code 137/);
    assert.match(verdict.message, /1 more op failed/);
  });

  test('a failed flow without a failed op → Failed, with the flow status and its first error', () => {
    const verdict = judgeResult(flow('validation-error', [], ['ops[0].image is required']), 'node');
    assert.equal(verdict.phase, 'Failed');
    assert.equal(verdict.reason, 'OpFailed');
    assert.match(verdict.message, /status "validation-error": ops\[0\]\.image is required/);
  });

  test('ops stopped before finishing → Stopped; ended by someone else → Stopped/Cancelled', () => {
    const stopped = flow('stopped', [op('serve', 'stopped'), op('setup', 'success', 0)]);
    const byNode = judgeResult(stopped, 'node');
    assert.deepEqual([byNode.phase, byNode.reason], ['Stopped', 'Stopped']);
    assert.match(byNode.message, /"serve" stopped/);
    assert.deepEqual([judgeResult(stopped, 'operator').reason, judgeResult(stopped, 'other').reason], ['Stopped', 'Cancelled']);
  });

  test('a confidential job (no ops in the public document) that succeeded is Succeeded', () => {
    assert.equal(judgeResult(flow('success', []), 'node').phase, 'Succeeded');
  });
});

describe('status.ops', () => {
  test('at every CRD bound at once (64 ops, full log tails, many long extracted values) the summaries stay within their budget', () => {
    const values = Array.from({ length: 32 }, (_, index) => `${index} ${'é'.repeat(4_000)}`);
    const ops: OpOutcome[] = Array.from({ length: 80 }, (_, index) => ({
      id: `op-${index}`,
      status: 'success',
      exitCode: 0,
      logs: `${'x'.repeat(10_000)}\nlast line of op ${index}\n`,
      results: Object.fromEntries(Array.from({ length: 20 }, (_, key) => [`expr${key}`, values])),
    }));
    const summaries = opSummaries(ops, 4096);
    assert.equal(summaries.length, 64, 'the CRD keeps 64 ops');
    assert.ok(Buffer.byteLength(JSON.stringify(summaries), 'utf8') <= STATUS_OPS_MAX_BYTES);
    for (const [index, summary] of summaries.entries()) {
      assert.ok(summary.logTail?.endsWith(`last line of op ${index}\n`), 'every op keeps the end of its log');
      assert.ok(Buffer.byteLength(summary.logTail ?? '', 'utf8') <= 4096);
    }
  });

  test('small results are kept whole', () => {
    const [summary] = opSummaries(
      [{ id: 'bench', status: 'success', exitCode: 0, logs: 'ok\n', results: { speed: ['12.3'], loss: ['0.1', '0.05'] } }],
      2048,
    );
    assert.deepEqual(summary, {
      id: 'bench',
      status: 'success',
      exitCode: 0,
      logTail: 'ok\n',
      results: { speed: ['12.3'], loss: ['0.1', '0.05'] },
    });
  });
});
