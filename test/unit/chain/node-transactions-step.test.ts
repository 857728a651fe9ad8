// The next step for a recorded node transaction, as a table: each reason is the rule it states.
// Above all, a new finish is allowed only while the node's run is open and the recorded one can
// no longer take effect.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair } from '@solana/web3.js';
import type { NodeTransactionResolution } from '../../../src/chain/jobs-client.ts';
import type { NodeTransactionRecord } from '../../../src/chain/node-transaction-record.ts';
import { decideNodeTransactionStep, observeJob } from '../../../src/chain/node-transaction-step.ts';
import type { NodeTransactionStep, ObservedJob } from '../../../src/chain/node-transaction-step.ts';
import { JOB_STATE } from '../../../src/chain/accounts.ts';
import { errorInfoByName } from '../../../src/chain/program-errors.ts';
import { bytes32ToCid, cidToBytes32 } from '../../../src/ipfs/cid.ts';

const address = () => Keypair.generate().publicKey.toBase58();
const NODE = address();
const OTHER_NODE = address();
const JOB = address();
const RUN = address();
const OTHER_RUN = address();
const RESULT = 'QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH';
const OTHER_RESULT = bytes32ToCid(new Uint8Array(32).fill(7));

const signed = {
  node: NODE,
  signature: '5'.repeat(88),
  lastValidBlockHeight: 200,
  preparedSlot: 50,
  genesisHash: address(),
  transaction: 'AA==',
  preparedAt: '2026-01-01T00:00:00.000Z',
};
const RECORDS = {
  finish: { kind: 'finish', job: JOB, run: RUN, resultCid: RESULT, payout: address(), ...signed },
  complete: { kind: 'complete', job: JOB, resultCid: RESULT, ...signed },
  quit: { kind: 'quit', job: JOB, run: RUN, ...signed },
  work: { kind: 'work', market: address(), run: RUN, ...signed },
  'leave-queue': { kind: 'leave-queue', market: address(), ...signed },
} as const satisfies Record<string, NodeTransactionRecord>;

function programError(name: string) {
  const info = errorInfoByName(name);
  if (info === undefined) throw new Error(`no program error ${name}`);
  return { name, code: info.code, message: info.msg };
}

const RESOLUTIONS = {
  landed: { outcome: 'landed', evidence: 'signature', slot: 70 },
  pending: { outcome: 'pending' },
  expired: { outcome: 'expired' },
  unknown: { outcome: 'unknown', reason: 'the RPC keeps no transaction history' },
  failed: { outcome: 'failed', error: programError('InvalidPayer'), detail: '{}' },
  failedAlreadyQueued: { outcome: 'failed', error: programError('NodeAlreadyQueued'), detail: '{}' },
  failedNotQueued: { outcome: 'failed', error: programError('NotInMarketQueue'), detail: '{}' },
  failedUnnamed: { outcome: 'failed', error: undefined, detail: '{"InstructionError":[0,"ProgramFailedToComplete"]}' },
} satisfies Record<string, NodeTransactionResolution>;

const JOBS = {
  runningHere: { status: 'RUNNING', node: address(), resultCid: undefined, run: { address: RUN, node: NODE } },
  runningElsewhere: { status: 'RUNNING', node: address(), resultCid: undefined, run: { address: OTHER_RUN, node: OTHER_NODE } },
  finishedHere: { status: 'COMPLETED', node: NODE, resultCid: RESULT, run: undefined },
  finishedHereOtherResult: { status: 'COMPLETED', node: NODE, resultCid: OTHER_RESULT, run: undefined },
  endedHere: { status: 'COMPLETED', node: NODE, resultCid: undefined, run: undefined },
  finishedElsewhere: { status: 'COMPLETED', node: OTHER_NODE, resultCid: RESULT, run: undefined },
  quit: { status: 'STOPPED', node: address(), resultCid: undefined, run: undefined },
  queued: { status: 'QUEUED', node: address(), resultCid: undefined, run: undefined },
} as const satisfies Record<string, ObservedJob>;

interface Case {
  reason: string;
  record: keyof typeof RECORDS;
  resolution: keyof typeof RESOLUTIONS;
  job: keyof typeof JOBS | 'gone';
  want: Pick<NodeTransactionStep, 'step'> & { reason?: string };
}

const CASES: Case[] = [
  // finish
  {
    reason: 'a finish seen landed is done',
    record: 'finish',
    resolution: 'landed',
    job: 'finishedHere',
    want: { step: 'done', reason: 'landed' },
  },
  {
    reason: 'a finish whose signature was never seen, but whose result is on chain for this node, is done',
    record: 'finish',
    resolution: 'expired',
    job: 'finishedHere',
    want: { step: 'done', reason: 'effect-on-chain' },
  },
  {
    reason: 'a finish that failed while the job is already completed here with this result is done (another record did the work)',
    record: 'finish',
    resolution: 'failed',
    job: 'finishedHere',
    want: { step: 'done', reason: 'effect-on-chain' },
  },
  {
    reason: 'a finish that may still land is re-sent as the same bytes while the run is open',
    record: 'finish',
    resolution: 'pending',
    job: 'runningHere',
    want: { step: 'resend' },
  },
  {
    reason: 'an expired finish may be signed again while the node run is still open',
    record: 'finish',
    resolution: 'expired',
    job: 'runningHere',
    want: { step: 'resign', reason: 'expired' },
  },
  {
    reason: 'a finish that failed beyond rollback changed nothing: it may be signed again while the run is open',
    record: 'finish',
    resolution: 'failed',
    job: 'runningHere',
    want: { step: 'resign', reason: 'failed' },
  },
  {
    reason: 'a finish whose fate the RPC cannot tell is neither re-signed nor given up: wait',
    record: 'finish',
    resolution: 'unknown',
    job: 'runningHere',
    want: { step: 'wait' },
  },
  {
    reason: 'an expired finish is never re-signed once the poster ended the job: the node posts its result with complete',
    record: 'finish',
    resolution: 'expired',
    job: 'endedHere',
    want: { step: 'give-up', reason: 'ended-by-poster' },
  },
  {
    reason: 'a pending finish whose run the poster closed can only fail: give up and complete',
    record: 'finish',
    resolution: 'pending',
    job: 'endedHere',
    want: { step: 'give-up', reason: 'ended-by-poster' },
  },
  {
    reason: 'a failed finish is never re-signed once the run is closed and the job stopped',
    record: 'finish',
    resolution: 'failed',
    job: 'quit',
    want: { step: 'give-up', reason: 'run-gone' },
  },
  {
    reason: 'an expired finish is never re-signed when the job now runs on another node',
    record: 'finish',
    resolution: 'expired',
    job: 'runningElsewhere',
    want: { step: 'give-up', reason: 'run-gone' },
  },
  {
    reason: 'an unknown finish is never re-signed once another node completed the job',
    record: 'finish',
    resolution: 'unknown',
    job: 'finishedElsewhere',
    want: { step: 'give-up', reason: 'run-gone' },
  },
  {
    reason: 'a finish whose job account is gone has nothing left to finish',
    record: 'finish',
    resolution: 'expired',
    job: 'gone',
    want: { step: 'give-up', reason: 'job-gone' },
  },
  {
    reason: 'a finish whose job was completed here with another result (an earlier record) leaves nothing to do',
    record: 'finish',
    resolution: 'expired',
    job: 'finishedHereOtherResult',
    want: { step: 'done', reason: 'completed-otherwise' },
  },
  // complete
  {
    reason: 'a complete seen landed is done',
    record: 'complete',
    resolution: 'landed',
    job: 'finishedHere',
    want: { step: 'done', reason: 'landed' },
  },
  {
    reason: 'a complete whose result is on chain is done, even if its own signature was never seen',
    record: 'complete',
    resolution: 'expired',
    job: 'finishedHere',
    want: { step: 'done', reason: 'effect-on-chain' },
  },
  {
    reason: 'a complete that may still land is re-sent while the ended job has no result',
    record: 'complete',
    resolution: 'pending',
    job: 'endedHere',
    want: { step: 'resend' },
  },
  {
    reason: 'an expired complete may be signed again while the ended job has no result',
    record: 'complete',
    resolution: 'expired',
    job: 'endedHere',
    want: { step: 'resign', reason: 'expired' },
  },
  {
    reason: 'a complete that failed without a named error may be signed again while the job has no result',
    record: 'complete',
    resolution: 'failedUnnamed',
    job: 'endedHere',
    want: { step: 'resign', reason: 'failed' },
  },
  {
    reason: 'a complete whose job holds another result of this node leaves nothing to do',
    record: 'complete',
    resolution: 'failed',
    job: 'finishedHereOtherResult',
    want: { step: 'done', reason: 'completed-otherwise' },
  },
  {
    reason: 'a complete for a job not ended on this node is given up',
    record: 'complete',
    resolution: 'expired',
    job: 'runningHere',
    want: { step: 'give-up', reason: 'not-ended-on-node' },
  },
  {
    reason: 'a complete for a job another node completed is given up',
    record: 'complete',
    resolution: 'expired',
    job: 'finishedElsewhere',
    want: { step: 'give-up', reason: 'not-ended-on-node' },
  },
  {
    reason: 'a complete whose job was cleaned is given up',
    record: 'complete',
    resolution: 'unknown',
    job: 'gone',
    want: { step: 'give-up', reason: 'job-gone' },
  },
  // quit
  { reason: 'a quit seen landed is done', record: 'quit', resolution: 'landed', job: 'quit', want: { step: 'done', reason: 'landed' } },
  {
    reason: 'a quit that may still land is re-sent while the run is open',
    record: 'quit',
    resolution: 'pending',
    job: 'runningHere',
    want: { step: 'resend' },
  },
  {
    reason: 'an expired quit may be signed again while the run is open',
    record: 'quit',
    resolution: 'expired',
    job: 'runningHere',
    want: { step: 'resign', reason: 'expired' },
  },
  {
    reason: 'a quit whose run is closed (ended, finished or quit) has nothing left to release',
    record: 'quit',
    resolution: 'expired',
    job: 'endedHere',
    want: { step: 'done', reason: 'run-closed' },
  },
  { reason: 'a quit whose fate cannot be told waits', record: 'quit', resolution: 'unknown', job: 'runningHere', want: { step: 'wait' } },
  // work
  { reason: 'a work seen landed is done', record: 'work', resolution: 'landed', job: 'gone', want: { step: 'done', reason: 'landed' } },
  { reason: 'a work that may still land is re-sent', record: 'work', resolution: 'pending', job: 'gone', want: { step: 'resend' } },
  {
    reason: 'a work refused because the node is already queued leaves the node where it should be',
    record: 'work',
    resolution: 'failedAlreadyQueued',
    job: 'gone',
    want: { step: 'done', reason: 'already-queued' },
  },
  {
    reason: 'an expired work may be signed again',
    record: 'work',
    resolution: 'expired',
    job: 'gone',
    want: { step: 'resign', reason: 'expired' },
  },
  {
    reason: 'a work whose fate cannot be told is not signed again: a second one could take a second job',
    record: 'work',
    resolution: 'unknown',
    job: 'gone',
    want: { step: 'wait' },
  },
  // leave-queue
  {
    reason: 'a leave-queue refused because the node is not queued leaves the node where it should be',
    record: 'leave-queue',
    resolution: 'failedNotQueued',
    job: 'gone',
    want: { step: 'done', reason: 'not-queued' },
  },
  {
    reason: 'a leave-queue that failed otherwise may be signed again',
    record: 'leave-queue',
    resolution: 'failed',
    job: 'gone',
    want: { step: 'resign', reason: 'failed' },
  },
  {
    reason: 'an expired leave-queue may be signed again',
    record: 'leave-queue',
    resolution: 'expired',
    job: 'gone',
    want: { step: 'resign', reason: 'expired' },
  },
];

describe('decideNodeTransactionStep', () => {
  for (const { reason, record, resolution, job, want } of CASES) {
    test(reason, () => {
      const step = decideNodeTransactionStep(RECORDS[record], RESOLUTIONS[resolution], job === 'gone' ? undefined : JOBS[job]);
      assert.deepEqual({ step: step.step, ...('reason' in step ? { reason: step.reason } : {}) }, want, step.message);
      assert.ok(step.message.length > 0);
    });
  }

  test('re-signing a finish is allowed only with the run open and the recorded one expired or failed', () => {
    for (const resolution of Object.keys(RESOLUTIONS) as (keyof typeof RESOLUTIONS)[]) {
      for (const job of [...(Object.keys(JOBS) as (keyof typeof JOBS)[]), 'gone' as const]) {
        const step = decideNodeTransactionStep(RECORDS.finish, RESOLUTIONS[resolution], job === 'gone' ? undefined : JOBS[job]);
        const allowed =
          job === 'runningHere' && (RESOLUTIONS[resolution].outcome === 'expired' || RESOLUTIONS[resolution].outcome === 'failed');
        assert.equal(step.step === 'resign', allowed, `${resolution} with the job ${job}: ${step.step}`);
      }
    }
  });
});

describe('observeJob', () => {
  const key = () => Keypair.generate().publicKey;
  const account = {
    ipfsJob: new Uint8Array(32).fill(1),
    ipfsResult: new Uint8Array(32),
    market: key(),
    node: key(),
    payer: key(),
    price: 10n,
    project: key(),
    state: JOB_STATE.queued,
    timeEnd: 0n,
    timeStart: 0n,
    timeout: 60n,
  };

  test('a job without a result has no result CID (the zero bytes are not a CID to compare with)', () => {
    assert.equal(observeJob({ address: key(), account, status: 'QUEUED' })?.resultCid, undefined);
  });

  test('a job with a result and an open run shows both, as base58', () => {
    const run = { address: key(), account: { job: key(), node: key(), payer: key(), state: 0, time: 5n } };
    const observed = observeJob({ address: key(), account: { ...account, ipfsResult: cidToBytes32(RESULT) }, status: 'RUNNING', run });
    assert.deepEqual(observed, {
      status: 'RUNNING',
      node: account.node.toBase58(),
      resultCid: RESULT,
      run: { address: run.address.toBase58(), node: run.account.node.toBase58() },
    });
  });

  test('a job account that is gone is observed as undefined', () => {
    assert.equal(observeJob(undefined), undefined);
  });
});
