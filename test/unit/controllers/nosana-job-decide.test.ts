// The transitions of a followed NosanaJob as a table: the status so far and what was read → the
// phase and reason shown, the one action, and whether the job is still polled. Each row's reason
// is its specification; together they cover every row of decide.ts's table.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair } from '@solana/web3.js';
import type { PublicKey } from '@solana/web3.js';
import type { NosanaJobStatus } from '../../../src/api/crds/nosana-job.ts';
import { healthRow } from '../../../src/api/health.ts';
import { JOB_STATE } from '../../../src/chain/accounts.ts';
import type { JobStatus, JobView } from '../../../src/chain/jobs-client.ts';
import { decide } from '../../../src/controllers/nosana-job/decide.ts';
import type { DecisionSettings, FollowWorld } from '../../../src/controllers/nosana-job/decision.ts';
import { findCondition } from '../../../src/runtime/conditions.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const NOW_S = BigInt(NOW.getTime() / 1000);
const ADDRESS = Keypair.generate().publicKey;
const MARKET = Keypair.generate().publicKey;
const NODE = Keypair.generate().publicKey;
const RUN = Keypair.generate().publicKey;
const NO_RESULT = new Uint8Array(32);
const RESULT = new Uint8Array(32).fill(7);

const SETTINGS: DecisionSettings = {
  now: NOW,
  generation: 1,
  retries: 1,
  deadNodeGraceMs: 120_000,
  resultWaitMs: 300_000,
  pollIntervalMs: 5_000,
  logTailMaxBytes: 2048,
  network: 'localnet',
};

function job(
  status: JobStatus,
  change: { timeout?: bigint; runStart?: bigint; timeStart?: bigint; timeEnd?: bigint; result?: boolean } = {},
): JobView {
  const state = status === 'COMPLETED' ? JOB_STATE.done : status === 'STOPPED' ? JOB_STATE.stopped : JOB_STATE.queued;
  const view: JobView = {
    address: ADDRESS,
    status,
    account: {
      ipfsJob: new Uint8Array(32).fill(1),
      ipfsResult: change.result === true ? RESULT : NO_RESULT,
      market: MARKET,
      node: NODE,
      payer: ADDRESS as PublicKey,
      price: 10n,
      project: ADDRESS,
      state,
      timeEnd: change.timeEnd ?? 0n,
      timeStart: change.timeStart ?? 0n,
      timeout: change.timeout ?? 600n,
    },
  };
  if (status === 'RUNNING')
    view.run = { address: RUN, account: { job: ADDRESS, node: NODE, payer: NODE, state: 0, time: change.runStart ?? NOW_S - 10n } };
  return view;
}

const POSTED_AT = new Date(NOW.getTime() - 30_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const LONG_AGO = new Date(NOW.getTime() - 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const address = ADDRESS.toBase58();
const attempt = (change: Record<string, unknown> = {}) => ({ jobAddress: address, postedAt: POSTED_AT, ...change });
const shown = (phase: NosanaJobStatus['phase'], extra: Partial<NosanaJobStatus> = {}): NosanaJobStatus => ({
  phase,
  attempts: [attempt()],
  ...extra,
});

const document = (opStatus: string, exitCode: number) => ({
  status: opStatus === 'success' ? 'success' : 'failed',
  ops: [{ id: 'main', status: opStatus, exitCode, logs: 'hi' }],
  errors: [],
});

interface Row {
  reason: string;
  status: NosanaJobStatus;
  world: Omit<FollowWorld, 'address' | 'stage'>;
  settings?: Partial<DecisionSettings>;
  want: { phase: string | undefined; ready?: string; action: string; forget?: boolean; outcome?: string };
}

const rows: Row[] = [
  {
    reason: 'queued: Queued with its place in the queue',
    status: {},
    world: { origin: 'posted', job: job('QUEUED'), queuePosition: 3 },
    want: { phase: 'Queued', ready: 'Queued', action: 'none' },
  },
  {
    reason: 'queued past spec.queueTimeout, posted: the intent is recorded and the job delisted',
    status: shown('Queued', { attempts: [attempt({ postedAt: LONG_AGO })] }),
    world: { origin: 'posted', job: job('QUEUED') },
    settings: { queueTimeout: { ms: 60_000, text: '1m' } },
    want: { phase: 'Queued', ready: 'Queued', action: 'delist', outcome: 'QueueTimeout' },
  },
  {
    reason: 'queued past spec.queueTimeout, adopted: never acted on',
    status: shown('Queued', { attempts: [attempt({ postedAt: LONG_AGO })] }),
    world: { origin: 'adopted', job: job('QUEUED') },
    settings: { queueTimeout: { ms: 60_000, text: '1m' } },
    want: { phase: 'Queued', ready: 'Queued', action: 'none' },
  },
  {
    reason: "queued with spec.timeout above the job's: extend",
    status: shown('Queued'),
    world: { origin: 'posted', job: job('QUEUED') },
    settings: { wantedTimeout: 1200n },
    want: { phase: 'Queued', ready: 'Queued', action: 'extend' },
  },
  {
    reason: 'queued, an ending recorded before a transaction that then failed no longer holds',
    status: shown('Queued', { attempts: [attempt({ outcome: 'QueueTimeout' })] }),
    world: { origin: 'posted', job: job('QUEUED') },
    want: { phase: 'Queued', ready: 'Queued', action: 'none', outcome: undefined },
  },
  {
    reason: 'running, a new run: Running with the services read for it',
    status: shown('Queued'),
    world: { origin: 'posted', job: job('RUNNING'), services: { reason: 'ServiceRunning', message: 'serving', urls: [] } },
    want: { phase: 'Running', ready: 'ServiceRunning', action: 'none' },
  },
  {
    reason: 'running past run start + timeout + grace, posted: the intent is recorded and the job ended',
    status: shown('Running'),
    world: { origin: 'posted', job: job('RUNNING', { runStart: NOW_S - 600n - 121n }), services: { reason: 'Running', message: 'runs' } },
    want: { phase: 'Running', ready: 'Running', action: 'end', outcome: 'NodeSilent' },
  },
  {
    reason: 'running past the deadline, adopted: never acted on',
    status: shown('Running'),
    world: { origin: 'adopted', job: job('RUNNING', { runStart: NOW_S - 600n - 121n }), services: { reason: 'Running', message: 'runs' } },
    want: { phase: 'Running', ready: 'Running', action: 'none' },
  },
  {
    reason: "running with spec.timeout above the job's: extend",
    status: shown('Running'),
    world: { origin: 'posted', job: job('RUNNING'), services: { reason: 'Running', message: 'runs' } },
    settings: { wantedTimeout: 1200n },
    want: { phase: 'Running', ready: 'Running', action: 'extend' },
  },
  {
    reason: 'completed without a result, within the wait: still Running',
    status: shown('Running'),
    world: { origin: 'posted', job: job('COMPLETED', { timeStart: NOW_S - 100n, timeEnd: NOW_S - 10n }) },
    want: { phase: 'Running', ready: 'Running', action: 'none' },
  },
  {
    reason: 'completed without a result past the wait, ended by someone else: Stopped/Cancelled',
    status: shown('Running', { attempts: [attempt({ postedAt: LONG_AGO })] }),
    world: { origin: 'posted', job: job('COMPLETED', { timeStart: NOW_S - 3000n, timeEnd: NOW_S - 1000n }) },
    want: { phase: 'Stopped', ready: 'Cancelled', action: 'none', forget: true, outcome: 'Cancelled' },
  },
  {
    reason: 'completed without a result past the wait, ended by us after a silent node: Failed/NoResult',
    status: shown('Running', { attempts: [attempt({ postedAt: LONG_AGO, outcome: 'NodeSilent' })] }),
    world: { origin: 'posted', job: job('COMPLETED', { timeStart: NOW_S - 3000n, timeEnd: NOW_S - 1000n }) },
    want: { phase: 'Failed', ready: 'NoResult', action: 'none', forget: true, outcome: 'NoResult' },
  },
  {
    reason: 'completed, the result unreadable for now within the wait: Running, retried',
    status: shown('Running'),
    world: {
      origin: 'posted',
      job: job('COMPLETED', { timeStart: NOW_S - 100n, timeEnd: NOW_S - 10n, result: true }),
      result: { error: 'gateway down', permanent: false },
    },
    want: { phase: 'Running', ready: 'Running', action: 'none' },
  },
  {
    reason: 'completed, the result is not a result document: Failed/NoResult',
    status: shown('Running'),
    world: {
      origin: 'posted',
      job: job('COMPLETED', { timeStart: NOW_S - 100n, timeEnd: NOW_S - 10n, result: true }),
      result: { error: 'not a flow state', permanent: true },
    },
    want: { phase: 'Failed', ready: 'NoResult', action: 'none', forget: true, outcome: 'NoResult' },
  },
  {
    reason: 'completed with a successful result: Succeeded, the logs stored',
    status: shown('Running'),
    world: {
      origin: 'posted',
      job: job('COMPLETED', { timeStart: NOW_S - 100n, timeEnd: NOW_S - 10n, result: true }),
      result: { document: document('success', 0) },
    },
    want: { phase: 'Succeeded', ready: 'Succeeded', action: 'storeLogs', forget: true, outcome: 'Succeeded' },
  },
  {
    reason: 'completed with a failed op: Failed/OpFailed, the logs stored',
    status: shown('Running'),
    world: {
      origin: 'posted',
      job: job('COMPLETED', { timeStart: NOW_S - 100n, timeEnd: NOW_S - 10n, result: true }),
      result: { document: document('failed', 3) },
    },
    want: { phase: 'Failed', ready: 'OpFailed', action: 'storeLogs', forget: true, outcome: 'Failed' },
  },
  {
    reason: 'stopped (its node quit), adopted: Stopped/NodeQuit, the deposit left to its project',
    status: shown('Running'),
    world: { origin: 'adopted', job: job('STOPPED') },
    want: { phase: 'Stopped', ready: 'NodeQuit', action: 'none', forget: true, outcome: 'NodeQuit' },
  },
  {
    reason: 'stopped, unverified (whose it is cannot be told yet): nothing is concluded or recovered, it is looked at again',
    status: shown('Running'),
    world: { origin: 'unverified', job: job('STOPPED') },
    want: { phase: 'Running', action: 'none' },
  },
  {
    reason: 'gone, unverified: nothing is concluded',
    status: shown('Queued', { attempts: [attempt({ missingSince: LONG_AGO })] }),
    world: { origin: 'unverified', goneAtFinality: true },
    want: { phase: 'Queued', action: 'none' },
  },
  {
    reason: 'stopped, posted: the intent is recorded and the deposit recovered',
    status: shown('Running'),
    world: { origin: 'posted', job: job('STOPPED') },
    want: { phase: 'Running', action: 'recover', outcome: 'NodeQuit' },
  },
  {
    reason: 'gone after our delist for the queue timeout: Stopped/QueueTimeout',
    status: shown('Queued', { attempts: [attempt({ outcome: 'QueueTimeout' })] }),
    world: { origin: 'posted' },
    want: { phase: 'Stopped', ready: 'QueueTimeout', action: 'none', forget: true, outcome: 'QueueTimeout' },
  },
  {
    reason: 'gone after our recover with retries left: the next attempt is posted',
    status: shown('Running', { attempts: [attempt({ outcome: 'NodeQuit' })] }),
    world: { origin: 'posted' },
    want: { phase: 'Running', action: 'repost', forget: true, outcome: 'NodeQuit' },
  },
  {
    reason: 'gone after our recover with no retries left: Stopped/NodeQuit',
    status: shown('Running', { attempts: [attempt({ outcome: 'NodeQuit' })] }),
    world: { origin: 'posted' },
    settings: { retries: 0 },
    want: { phase: 'Stopped', ready: 'NodeQuit', action: 'none', forget: true, outcome: 'NodeQuit' },
  },
  {
    reason: 'gone after we ended a silent node: Failed/NoResult',
    status: shown('Running', { attempts: [attempt({ outcome: 'NodeSilent' })] }),
    world: { origin: 'posted' },
    want: { phase: 'Failed', ready: 'NoResult', action: 'none', forget: true, outcome: 'NoResult' },
  },
  {
    reason: 'an adopted address with no job: Pending, looked at again',
    status: {},
    world: { origin: 'adopted' },
    want: { phase: 'Pending', ready: 'Pending', action: 'none' },
  },
  {
    reason: 'a queued job missing once: nothing ends, the first miss is remembered',
    status: shown('Queued'),
    world: { origin: 'posted', goneAtFinality: true },
    want: { phase: 'Queued', action: 'none' },
  },
  {
    reason: 'missing for a minute but still there at finality: nothing ends',
    status: shown('Queued', { attempts: [attempt({ missingSince: LONG_AGO })] }),
    world: { origin: 'posted', goneAtFinality: false },
    want: { phase: 'Queued', action: 'none' },
  },
  {
    reason: 'missing for a minute and gone at finality: Stopped/Cancelled',
    status: shown('Queued', { attempts: [attempt({ missingSince: LONG_AGO })] }),
    world: { origin: 'posted', goneAtFinality: true },
    want: { phase: 'Stopped', ready: 'Cancelled', action: 'none', forget: true, outcome: 'Cancelled' },
  },
];

describe('decide: a followed NosanaJob', () => {
  for (const row of rows) {
    test(row.reason, () => {
      const before = structuredClone(row.status);
      const decision = decide(row.status, { stage: 'follow', address, ...row.world }, { ...SETTINGS, ...row.settings });
      assert.deepEqual(row.status, before, 'the input status is not changed');
      assert.equal(decision.status.phase, row.want.phase);
      if (row.want.ready !== undefined) assert.equal(findCondition(decision.status.conditions, 'Ready')?.reason, row.want.ready);
      assert.equal(decision.action.kind, row.want.action);
      assert.equal(decision.forget, row.want.forget ?? false);
      if (decision.forget) assert.equal(decision.status.queuePosition, undefined, 'an ended job holds no place in a queue');
      if ('outcome' in row.want)
        assert.equal(decision.status.attempts?.find((entry) => entry.jobAddress === address)?.outcome, row.want.outcome);
      if (decision.forget && decision.action.kind !== 'repost') {
        const reason = findCondition(decision.status.conditions, 'Ready')?.reason ?? '';
        assert.equal(
          healthRow('NosanaJob', decision.status.phase, reason)?.terminal,
          true,
          'an ended job is in a terminal row of the phase table',
        );
      }
      if (decision.action.kind === 'none' && !decision.forget)
        assert.equal(decision.requeueAfterMs, SETTINGS.pollIntervalMs, 'an unfinished job is polled');
    });
  }

  test('an adopted job is marked so in its attempt (never counted as spent, never acted on)', () => {
    const decision = decide({}, { stage: 'follow', address, origin: 'adopted', job: job('QUEUED') }, SETTINGS);
    assert.equal(decision.status.attempts?.[0]?.origin, 'adopted');
  });

  test('a poll that sees nothing new decides nothing new: no Event, the same status', () => {
    const first = decide({}, { stage: 'follow', address, origin: 'posted', job: job('QUEUED'), queuePosition: 0 }, SETTINGS);
    const again = decide(first.status, { stage: 'follow', address, origin: 'posted', job: job('QUEUED'), queuePosition: 0 }, SETTINGS);
    assert.deepEqual(again.events, []);
    assert.deepEqual(again.status, first.status);
  });
});
