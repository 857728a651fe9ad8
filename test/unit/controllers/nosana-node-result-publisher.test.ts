// The result document a node publishes, offline: what goes in (the whole flow, secrets emptied),
// what is refused (a flow that has not ended), how an oversized document loses its oldest log
// entries fairly between ops, and that a pinning service storing other bytes is an error.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  RESULT_MAX_BYTES,
  UnpublishableResultError,
  publishResult,
  resultDocument,
} from '../../../src/controllers/nosana-node/result-publisher.ts';
import type { FlowState, FlowStatus, LogEntry, OpState } from '../../../src/executor/flow-state.ts';
import { CidMismatchError, computeCidV0, encodeJsonForPinning } from '../../../src/ipfs/index.ts';
import type { PinOptions, PinningClient } from '../../../src/ipfs/index.ts';

function op(operationId: string, logs: LogEntry[]): OpState {
  return {
    operationId,
    group: operationId,
    providerId: `pod-${operationId}`,
    status: 'success',
    startTime: 1_767_225_601_000,
    endTime: 1_767_225_612_000,
    exitCode: 0,
    logs,
    errors: [],
    diagnostics: { reason: { hostShutDown: false, jobStopped: false, jobExpired: false } },
  };
}

const lines = (count: number, width: number, prefix: string): LogEntry[] =>
  Array.from({ length: count }, (_, index) => ({
    type: 'stdout',
    log: `${prefix}${index} ${'x'.repeat(width)}\n`,
    timestamp: '2026-01-01T00:00:01Z',
  }));

function flow(opStates: OpState[], status: FlowStatus = 'success'): FlowState {
  return {
    status,
    startTime: 1_767_225_600_000,
    endTime: 1_767_225_612_345,
    errors: [],
    secrets: { 'https://abc.node.k8s.prd.nos.ci': { opId: 'serve', port: 8080 } },
    opStates,
  };
}

/** A pinning service double: records what it was given and answers with `answer` (default: the honest CID). */
function pinningDouble(answer?: (honest: string) => string) {
  const pinned: { value: unknown; options: PinOptions | undefined }[] = [];
  const client: PinningClient = {
    kind: 'pinata',
    pinBytes: () => Promise.reject(new Error('not used')),
    async pinJson(value: unknown, options?: PinOptions) {
      pinned.push({ value, options });
      const honest = await computeCidV0(encodeJsonForPinning(value));
      return answer === undefined ? honest : answer(honest);
    },
  };
  return { client, pinned };
}

describe('the result document', () => {
  test('is the whole flow with secrets emptied, in the compact serialisation that is pinned', () => {
    const given = flow([op('hello', lines(3, 10, 'line'))]);
    const { document, bytes, droppedLogEntries } = resultDocument(given);
    assert.deepEqual(document, { ...given, secrets: {} });
    assert.notDeepEqual(given.secrets, {}, 'the flow given is not changed');
    assert.deepEqual(bytes, encodeJsonForPinning(document));
    assert.equal(new TextDecoder().decode(bytes).includes('nos.ci'), false, 'no exposed URL reaches the published bytes');
    assert.equal(droppedLogEntries, 0);
    assert.deepEqual(Object.keys(document), ['status', 'startTime', 'endTime', 'errors', 'secrets', 'opStates'], "Nosana's field order");
  });

  const unended: { reason: string; flow: FlowState }[] = [
    { reason: 'a running flow', flow: flow([], 'running') },
    { reason: 'a flow not started', flow: flow([], 'init') },
    {
      reason: 'a flow waiting for its off-chain delivery (the published copy keeps the status before it)',
      flow: flow([], 'waiting-for-result'),
    },
    { reason: 'a flow with no end time', flow: { ...flow([]), endTime: null } },
  ];
  for (const { reason, flow: given } of unended) {
    test(`is refused for ${reason}`, () => {
      assert.throws(() => resultDocument(given), UnpublishableResultError);
    });
  }

  test('a failed, stopped or invalid flow is a result like any other', () => {
    for (const status of ['failed', 'stopped', 'validation-error'] as const)
      assert.equal(resultDocument(flow([], status)).document.status, status);
  });

  test('over the bound, the oldest log entries go, shared fairly: a quiet op keeps everything, noisy ops keep their newest', () => {
    const quiet = op('quiet', lines(5, 20, 'q'));
    const noisyA = op('noisy-a', lines(400, 200, 'a'));
    const noisyB = op('noisy-b', lines(400, 200, 'b'));
    const given = flow([quiet, noisyA, noisyB]);
    const maxBytes = 60_000;
    assert.ok(encodeJsonForPinning(given).length > maxBytes, 'the test flow is over the bound');
    const { document, bytes, droppedLogEntries } = resultDocument(given, maxBytes);

    assert.ok(bytes.length <= maxBytes, `${bytes.length} bytes fit in ${maxBytes}`);
    assert.ok(bytes.length > maxBytes * 0.9, 'the room is used, not wasted');
    assert.deepEqual(bytes, encodeJsonForPinning(document));
    const [keptQuiet, keptA, keptB] = document.opStates;
    assert.deepEqual(keptQuiet, quiet, 'an op under its share is kept whole');
    let dropped = 0;
    for (const [kept, original] of [
      [keptA, noisyA],
      [keptB, noisyB],
    ] as const) {
      const [note, ...rest] = kept?.logs ?? [];
      const lost = original.logs.length - rest.length;
      dropped += lost;
      assert.equal(note?.type, 'nodeerr');
      assert.match(note?.log ?? '', new RegExp(`^${lost} earlier log entries were dropped to keep the result within ${maxBytes} bytes`));
      assert.deepEqual(rest, original.logs.slice(lost), 'the newest entries, in order');
      assert.deepEqual({ ...kept, logs: [] }, { ...original, logs: [] }, 'nothing but the logs changes');
    }
    assert.equal(droppedLogEntries, dropped);
    const keptCounts = [keptA, keptB].map((kept) => (kept?.logs.length ?? 0) - 1);
    assert.ok(Math.abs((keptCounts[0] ?? 0) - (keptCounts[1] ?? 0)) <= 1, `equally noisy ops keep as much: ${keptCounts.join(' and ')}`);
  });

  test('one huge log line is dropped rather than taking the whole document over the bound', () => {
    const given = flow([op('dump', [{ type: 'stdout', log: 'y'.repeat(50_000) }, ...lines(3, 10, 'tail')])]);
    const { document, bytes } = resultDocument(given, 10_000);
    assert.ok(bytes.length <= 10_000);
    assert.deepEqual(document.opStates[0]?.logs.slice(1), given.opStates[0]?.logs.slice(1));
  });

  test('a document too large even without logs and results values is published as a small summary saying so', () => {
    const given = { ...flow([op('a', lines(50, 100, 'l'))], 'failed'), errors: ['e'.repeat(5_000)] };
    const { document, bytes, summaryOnly, droppedLogEntries } = resultDocument(given, 4_000);
    assert.ok(bytes.length <= 4_000);
    assert.deepEqual(bytes, encodeJsonForPinning(document));
    assert.equal(summaryOnly, true);
    assert.equal(droppedLogEntries, 50);
    assert.deepEqual(
      { ...document, errors: [] },
      { status: 'failed', startTime: given.startTime, endTime: given.endTime, errors: [], secrets: {}, opStates: [] },
      'the status and times survive',
    );
    assert.match(String(document.errors?.[0]), /did not fit in 4000 bytes \(it takes \d+ bytes even without its logs and results values\)/);
  });

  test('only a bound too small for even the summary is refused', () => {
    assert.throws(() => resultDocument({ ...flow([]), errors: ['e'.repeat(500)] }, 100), UnpublishableResultError);
  });

  test('results values are kept whole while dropping logs is enough', () => {
    const withResults: OpState = { ...op('r', lines(300, 200, 'r')), results: { found: ['a', 'b', undefined], broken: 'SyntaxError: x' } };
    const { document, droppedResultItems } = resultDocument(flow([withResults]), 20_000);
    assert.deepEqual(document.opStates[0]?.results, withResults.results);
    assert.equal(droppedResultItems, 0);
    assert.match(document.opStates[0]?.logs[0]?.log ?? '', /earlier log entries were dropped/);
  });

  test('results values too large for the bound lose their oldest items fairly, after every log entry', () => {
    const greedy = Array.from({ length: 2_000 }, (_, index) => `match ${index} ${'g'.repeat(100)}`);
    const hostile: OpState = {
      ...op('hostile', lines(100, 100, 'h')),
      results: { a: greedy, b: [...greedy], small: ['tiny'], broken: 'SyntaxError: x' },
    };
    const other: OpState = { ...op('other', lines(3, 10, 'o')), results: { n: ['1'] } };
    const maxBytes = 50_000;
    const given = flow([hostile, other]);
    const { document, bytes, droppedLogEntries, droppedResultItems, summaryOnly } = resultDocument(given, maxBytes);
    assert.ok(bytes.length <= maxBytes, `${bytes.length} bytes fit in ${maxBytes}`);
    assert.ok(bytes.length > maxBytes * 0.9, 'the room is used, not wasted');
    assert.equal(summaryOnly, false);
    assert.equal(droppedLogEntries, 103, 'every log entry goes before any results item');
    const [keptHostile, keptOther] = document.opStates;
    assert.deepEqual(keptOther?.results, { n: ['1'] }, 'a value under its share is kept whole');
    assert.deepEqual(keptHostile?.results?.['small'], ['tiny']);
    assert.equal(keptHostile?.results?.['broken'], 'SyntaxError: x', 'an error string is not cut');
    let dropped = 0;
    for (const key of ['a', 'b']) {
      const [note, ...kept] = keptHostile?.results?.[key] as string[];
      const lost = greedy.length - kept.length;
      dropped += lost;
      assert.equal(note, `[${lost} earlier items were dropped to keep the result within ${maxBytes} bytes]`);
      assert.deepEqual(kept, greedy.slice(lost), 'the newest items, in order');
    }
    assert.equal(droppedResultItems, dropped);
    assert.match(keptHostile?.logs[0]?.log ?? '', /^100 earlier log entries were dropped/);
  });

  test('the bound is what the poster side reads from a gateway: 16 MiB', () => {
    assert.equal(RESULT_MAX_BYTES, 16 * 1024 * 1024);
  });
});

describe('publishing the result', () => {
  test('pins the document and returns the CID computed locally, with the flow status for the record', async () => {
    const { client, pinned } = pinningDouble();
    const given = flow([op('hello', lines(2, 5, 'l'))], 'failed');
    const published = await publishResult(client, given, { name: 'result-job.json' });
    const { bytes } = resultDocument(given);
    assert.equal(published.cid, await computeCidV0(bytes));
    assert.deepEqual(published, {
      cid: published.cid,
      flowStatus: 'failed',
      size: bytes.length,
      droppedLogEntries: 0,
      droppedResultItems: 0,
      summaryOnly: false,
    });
    assert.equal(pinned.length, 1);
    assert.deepEqual(encodeJsonForPinning(pinned[0]?.value), bytes, 'the service gets exactly the bytes hashed');
    assert.equal(pinned[0]?.options?.name, 'result-job.json');
  });

  test('a service that returns another CID is an error naming both, never a different result', async () => {
    const other = 'QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o';
    const { client } = pinningDouble(() => other);
    await assert.rejects(publishResult(client, flow([])), (error: unknown) => {
      assert.ok(error instanceof CidMismatchError);
      assert.equal(error.returnedCid, other);
      assert.notEqual(error.expectedCid, other);
      return true;
    });
  });

  test('a hostile results definition over megabytes of logs is still published within the bound, never refused', async () => {
    const { client, pinned } = pinningDouble();
    const logs = lines(20_000, 1_000, 'x');
    const texts = logs.map(({ log }) => log);
    const hostile: OpState = { ...op('hostile', logs), results: { a: texts.flatMap((text) => [text, text]), b: [...texts, ...texts] } };
    const published = await publishResult(client, flow([hostile]), { maxBytes: 4 * 1024 * 1024 });
    assert.ok(published.size <= 4 * 1024 * 1024);
    assert.ok(published.droppedResultItems > 0);
    assert.equal(pinned.length, 1);
  });

  test('a flow that has not ended is never sent to the service', async () => {
    const { client, pinned } = pinningDouble();
    await assert.rejects(publishResult(client, flow([], 'running')), UnpublishableResultError);
    assert.equal(pinned.length, 0);
  });
});
