// Settling a post in flight, against the localnet and its fault knobs: after a crash at either
// side of the broadcast, after a dropped transaction expires, when the RPC cannot tell (and a
// person confirms), and when the NosanaJob is deleted meanwhile. Every path ends with at most one
// job on chain for the NosanaJob, and NOS conserved.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CONFIRM_POST_ANNOTATION,
  JOB_ADDRESS_ANNOTATION,
  NOSANA_JOB_FINALIZER,
  PENDING_POST_ANNOTATION,
} from '../../../src/api/annotations.ts';
import type { PendingPost, PendingPostOutcome } from '../../../src/chain/jobs-client.ts';
import { jobDeposit } from '../../../src/chain/money.ts';
import { NosanaJobReconciler } from '../../../src/controllers/nosana-job/reconciler.ts';
import type { KubeWriter } from '../../../src/runtime/types.ts';
import { reconcileContext, reconcileUntil } from '../../support/fake-kube.ts';
import { jobAccountsOf } from '../../harness/nosana-ledger.ts';
import { waitFor } from '../../../src/local-cluster/wait.ts';
import { useLocalnet } from '../support.ts';
import {
  MARKET_TIMEOUT,
  NAMESPACE,
  PRICE,
  assertNothingSpent,
  condition,
  createJob,
  jobObject,
  overriding,
  postWorld,
  readMoney,
  readyReason,
  reconcile,
  reconcileToPhase,
} from './nosana-job-post-support.ts';
import type { PostWorld } from './nosana-job-post-support.ts';

// Short slots and blockhash lifetime: a dropped post expires in about a second.
const CHAIN = { slotMs: 40, blockhashLifetime: 20, finalizeAfterSlots: 2 };
const DEPOSIT = jobDeposit(PRICE, MARKET_TIMEOUT);

function recordOf(world: PostWorld, name: string): PendingPost | undefined {
  const text = jobObject(world, name).metadata?.annotations?.[PENDING_POST_ANNOTATION];
  return text === undefined ? undefined : (JSON.parse(text) as PendingPost);
}

/** A second controller process over the same API server and chain: nothing carried over in memory. */
function restarted(world: PostWorld, writer: KubeWriter = world.deps.writer): NosanaJobReconciler {
  return new NosanaJobReconciler({ ...world.deps, writer });
}

describe('settling a post in flight', () => {
  const getLocalnet = useLocalnet({ chain: CHAIN });

  test('a crash after the record, before the broadcast: the next controller sends the recorded bytes and the job lands once', async (t) => {
    const sending = { allowed: false };
    const world = await postWorld(t, getLocalnet(), {
      wrapJobs: (jobs) =>
        overriding(jobs, {
          broadcast: async (pending: PendingPost) => {
            if (!sending.allowed) throw new Error('the process died before sending');
            await jobs.broadcast(pending);
          },
        }),
    });
    const before = await readMoney(world);
    createJob(world, 'resumed');
    await reconcile(world, 'resumed');
    const record = recordOf(world, 'resumed');
    assert.ok(record !== undefined, 'the post was recorded');
    assert.equal((await jobAccountsOf(world.localnet, world.wallet.publicKey)).length, 0, 'nothing reached the chain');
    // The process died before its status write too: only the annotation knows the post, and the
    // binding in the recorded transaction proves it is this object's own.
    world.kube.setStatus('NosanaJob', { namespace: NAMESPACE, name: 'resumed' }, {});

    sending.allowed = true;
    const next = restarted(world);
    const queued = await reconcileUntil(next, { namespace: NAMESPACE, name: 'resumed' }, () =>
      jobObject(world, 'resumed').status?.phase === 'Queued' ? jobObject(world, 'resumed') : undefined,
    );
    assert.equal(queued.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION], record.jobAddress);
    assert.deepEqual(new Set(world.broadcasts), new Set([record.signature]), 'only the recorded transaction was ever sent');
    assert.ok(!world.kube.events.reasons().includes('RecordUnproven'), "the record was recognised as this object's own");
    assert.deepEqual(
      (await jobAccountsOf(world.localnet, world.wallet.publicKey)).map((job) => job.address),
      [record.jobAddress],
    );
    const after = await readMoney(world);
    assert.equal(after.ledger.poster, before.ledger.poster - DEPOSIT);
    assert.equal(after.ledger.total, before.ledger.total);
  });

  test('a crash before the status write after landing: the next controller mirrors the job from its annotation', async (t) => {
    const world = await postWorld(t, getLocalnet());
    createJob(world, 'unwritten');
    const dying: KubeWriter = {
      ...world.deps.writer,
      applyStatus: async (ref, status, current) => {
        if (jobObject(world, 'unwritten').metadata?.annotations?.[JOB_ADDRESS_ANNOTATION] !== undefined)
          throw new Error('the process died before writing the status');
        return world.deps.writer.applyStatus(ref, status, current);
      },
    };
    const first = restarted(world, dying);
    const deadline = Date.now() + 30_000;
    for (let died = false; !died;) {
      died = await first.reconcile({ namespace: NAMESPACE, name: 'unwritten' }, reconcileContext()).then(
        () => false,
        (error: unknown) => {
          if (!/died before writing the status/.test((error as Error).message)) throw error;
          return true;
        },
      );
      assert.ok(Date.now() < deadline, 'the post should land');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const landed = jobObject(world, 'unwritten');
    assert.equal(landed.status?.phase, 'Posting', 'the status after landing was never written');
    const address = landed.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION];
    assert.ok(address !== undefined);

    const queued = await reconcileUntil(restarted(world), { namespace: NAMESPACE, name: 'unwritten' }, () =>
      jobObject(world, 'unwritten').status?.phase === 'Queued' ? jobObject(world, 'unwritten') : undefined,
    );
    assert.equal(queued.status?.jobAddress, address);
    assert.equal(queued.status?.pendingPost, undefined, 'the settled post is no longer shown as in flight');
    assert.deepEqual(
      queued.status?.attempts?.map((attempt) => attempt.jobAddress),
      [address],
    );
    assert.equal((await jobAccountsOf(world.localnet, world.wallet.publicKey)).length, 1);
  });

  test('a dropped post expires: the record is cleared (never landed, nothing spent) and a new post lands; one job in all', async (t) => {
    const world = await postWorld(t, getLocalnet());
    const before = await readMoney(world);
    createJob(world, 'dropped');
    const faults = world.localnet.chain.faults;
    faults.dropRate = 1;
    try {
      await reconcileUntil(world.reconciler, { namespace: NAMESPACE, name: 'dropped' }, () =>
        world.kube.events.reasons().includes('PostExpired'),
      );
    } finally {
      faults.clear();
    }
    assert.equal(world.kube.writeCounts('NosanaJob').applyStatus, 2, 'Posting, then Pending: waiting for the post to land wrote nothing');
    assert.ok(new Set(world.broadcasts).size === 1 && world.broadcasts.length > 1, 'while it waited, the same bytes were sent again');
    const expired = jobObject(world, 'dropped');
    assert.equal(expired.metadata?.annotations?.[PENDING_POST_ANNOTATION], undefined);
    assert.equal(readyReason(expired), 'Pending');
    assert.match(condition(expired, 'Ready')!.message, /expired without landing; nothing was spent/);
    await assertNothingSpent(world, before);

    const queued = await reconcileToPhase(world, 'dropped', 'Queued');
    assert.equal(new Set(world.broadcasts).size, 2, 'a second, different post was prepared and sent');
    assert.deepEqual(
      (await jobAccountsOf(world.localnet, world.wallet.publicKey)).map((job) => job.address),
      [queued.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION]],
    );
    const after = await readMoney(world);
    assert.equal(after.ledger.poster, before.ledger.poster - DEPOSIT, 'one deposit paid');
    assert.equal(after.ledger.total, before.ledger.total);
  });

  test('deleting a NosanaJob while its post is in flight: the post is resolved first and the landed job delisted, not leaked', async (t) => {
    const world = await postWorld(t, getLocalnet());
    const before = await readMoney(world);
    createJob(world, 'deleted');
    await reconcile(world, 'deleted');
    const record = recordOf(world, 'deleted');
    assert.ok(record !== undefined);
    world.kube.delete('NosanaJob', { namespace: NAMESPACE, name: 'deleted' });
    await reconcileUntil(
      world.reconciler,
      { namespace: NAMESPACE, name: 'deleted' },
      () => world.kube.get('NosanaJob', { namespace: NAMESPACE, name: 'deleted' }) === undefined,
    );
    assert.ok(world.kube.events.reasons().includes('Posted'), 'the post had landed');
    assert.equal((await jobAccountsOf(world.localnet, world.wallet.publicKey)).length, 0, 'the job was delisted');
    const after = await readMoney(world);
    assert.equal(after.ledger.poster, before.ledger.poster, 'the deposit came back');
    assert.equal(after.ledger.total, before.ledger.total);
  });

  test('when the RPC cannot tell whether the post landed, nothing more happens until a person confirms "landed"', async (t) => {
    const unknown: PendingPostOutcome = { outcome: 'unknown', reason: 'the RPC keeps no transaction history' };
    const world = await postWorld(t, getLocalnet(), {
      wrapJobs: (jobs) => overriding(jobs, { resolvePendingPost: async () => unknown }),
    });
    createJob(world, 'unsure');
    await reconcile(world, 'unsure');
    const record = recordOf(world, 'unsure');
    assert.ok(record !== undefined);
    // It did land; only the resolution cannot say so.
    await waitFor(async () => (await jobAccountsOf(world.localnet, world.wallet.publicKey)).length === 1, { what: 'the post to land' });
    await reconcile(world, 'unsure');
    const stuck = jobObject(world, 'unsure');
    assert.equal(stuck.status?.phase, 'Posting');
    assert.equal(condition(stuck, 'Stalled')?.status, 'True');
    assert.match(
      condition(stuck, 'Ready')!.message,
      new RegExp(
        `keeps no transaction history.*kubectl annotate nosanajob/unsure ${CONFIRM_POST_ANNOTATION}=landed.*${CONFIRM_POST_ANNOTATION}=not-landed`,
      ),
    );
    const writes = world.kube.journal.length;
    const broadcasts = world.broadcasts.length;
    const outcome = await reconcile(world, 'unsure');
    assert.equal(outcome?.requeueAfterMs, undefined, 'it waits for the person, not a timer');
    assert.equal(world.kube.journal.length, writes, 'nothing written while waiting');
    assert.equal(world.broadcasts.length, broadcasts, 'nothing sent while waiting');

    world.kube.annotate('NosanaJob', { namespace: NAMESPACE, name: 'unsure' }, { [CONFIRM_POST_ANNOTATION]: 'landed' });
    const queued = await reconcileToPhase(world, 'unsure', 'Queued');
    assert.equal(queued.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION], record.jobAddress);
    assert.equal(queued.metadata?.annotations?.[CONFIRM_POST_ANNOTATION], undefined, 'the confirmation is removed once acted on');
    assert.equal(queued.metadata?.annotations?.[PENDING_POST_ANNOTATION], undefined);
    assert.ok(world.kube.events.reasons().includes('PostConfirmed'));

    // A confirmation left where there is no post to settle is removed: it must not settle a later one.
    world.kube.annotate('NosanaJob', { namespace: NAMESPACE, name: 'unsure' }, { [CONFIRM_POST_ANNOTATION]: 'not-landed' });
    await reconcile(world, 'unsure');
    const after = jobObject(world, 'unsure');
    assert.equal(after.metadata?.annotations?.[CONFIRM_POST_ANNOTATION], undefined);
    assert.equal(after.status?.phase, 'Queued');
    assert.equal((await jobAccountsOf(world.localnet, world.wallet.publicKey)).length, 1);
  });

  test('"not-landed" is refused while the recorded job account exists: the job is followed, not posted again', async (t) => {
    const unknown: PendingPostOutcome = { outcome: 'unknown', reason: 'the RPC keeps no transaction history' };
    const world = await postWorld(t, getLocalnet(), {
      wrapJobs: (jobs) => overriding(jobs, { resolvePendingPost: async () => unknown }),
    });
    createJob(world, 'mistaken');
    await reconcile(world, 'mistaken');
    const record = recordOf(world, 'mistaken');
    assert.ok(record !== undefined);
    await waitFor(async () => (await jobAccountsOf(world.localnet, world.wallet.publicKey)).length === 1, { what: 'the post to land' });
    await reconcile(world, 'mistaken');
    assert.equal(readyReason(jobObject(world, 'mistaken')), 'PostOutcomeUnknown');

    world.kube.annotate('NosanaJob', { namespace: NAMESPACE, name: 'mistaken' }, { [CONFIRM_POST_ANNOTATION]: 'not-landed' });
    const queued = await reconcileToPhase(world, 'mistaken', 'Queued');
    assert.equal(queued.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION], record.jobAddress, 'the job that exists is the one followed');
    assert.equal(queued.metadata?.annotations?.[CONFIRM_POST_ANNOTATION], undefined);
    assert.ok(world.kube.events.reasons().includes('ConfirmationRefused'));
    assert.equal((await jobAccountsOf(world.localnet, world.wallet.publicKey)).length, 1, 'one job on chain: nothing was posted again');
    assert.equal(new Set(world.broadcasts).size, 1);
  });

  test('a garbled pending-post annotation falls back to the verified copy in status: the same job is followed', async (t) => {
    const world = await postWorld(t, getLocalnet());
    createJob(world, 'garbled');
    await reconcile(world, 'garbled');
    const record = recordOf(world, 'garbled');
    assert.ok(record !== undefined);
    assert.equal(jobObject(world, 'garbled').status?.pendingPost?.jobAddress, record.jobAddress, 'the status holds a copy');
    world.kube.annotate(
      'NosanaJob',
      { namespace: NAMESPACE, name: 'garbled' },
      { [PENDING_POST_ANNOTATION]: `${JSON.stringify(record).slice(0, 40)}…` },
    );

    const queued = await reconcileToPhase(world, 'garbled', 'Queued');
    assert.equal(queued.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION], record.jobAddress);
    assert.ok(world.kube.events.reasons().includes('RecordRestored'));
    assert.equal((await jobAccountsOf(world.localnet, world.wallet.publicKey)).length, 1, 'one job on chain');
    assert.equal(new Set(world.broadcasts).size, 1, 'one post in all');
  });
});

describe('settling a post without transaction history', () => {
  const getLocalnet = useLocalnet({ chain: { ...CHAIN, keepHistory: false } });

  test('a dropped post is unknown after expiry; a bad confirmation is reported; "not-landed" clears it and a new post lands once', async (t) => {
    const world = await postWorld(t, getLocalnet());
    const before = await readMoney(world);
    createJob(world, 'lost');
    const key = { namespace: NAMESPACE, name: 'lost' };
    const faults = world.localnet.chain.faults;
    faults.dropRate = 1;
    try {
      await reconcileUntil(world.reconciler, key, () => readyReason(jobObject(world, 'lost')) === 'PostOutcomeUnknown');
    } finally {
      faults.clear();
    }
    assert.match(condition(jobObject(world, 'lost'), 'Ready')!.message, /cannot tell whether the post landed: .*history/);
    await assertNothingSpent(world, before);
    const first = recordOf(world, 'lost');

    world.kube.annotate('NosanaJob', key, { [CONFIRM_POST_ANNOTATION]: 'probably' });
    await world.reconciler.reconcile(key, reconcileContext());
    assert.match(condition(jobObject(world, 'lost'), 'Ready')!.message, /The value "probably" of nosana\.io\/confirm-post is not one of/);
    assert.equal(recordOf(world, 'lost')?.signature, first?.signature, 'still waiting on the same post');

    world.kube.annotate('NosanaJob', key, { [CONFIRM_POST_ANNOTATION]: 'not-landed' });
    await world.reconciler.reconcile(key, reconcileContext());
    const cleared = jobObject(world, 'lost');
    assert.equal(cleared.metadata?.annotations?.[PENDING_POST_ANNOTATION], undefined);
    assert.equal(cleared.metadata?.annotations?.[CONFIRM_POST_ANNOTATION], undefined);
    assert.equal(cleared.status?.phase, 'Pending');

    const queued = await reconcileToPhase(world, 'lost', 'Queued');
    assert.notEqual(queued.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION], first?.jobAddress);
    assert.equal((await jobAccountsOf(world.localnet, world.wallet.publicKey)).length, 1, 'one job on chain');
    const after = await readMoney(world);
    assert.equal(after.ledger.poster, before.ledger.poster - DEPOSIT);
    assert.equal(after.ledger.total, before.ledger.total);
  });
});

describe('a record that lost its annotations but not its status', () => {
  const getLocalnet = useLocalnet({ chain: CHAIN });

  // `kubectl replace`, or a tool that rewrites metadata, drops the operator's annotations while the
  // status subresource keeps what the operator wrote. The status alone must keep a second job from being posted.
  test('a posted job whose job-address annotation was dropped is followed again, not posted twice', async (t) => {
    const world = await postWorld(t, getLocalnet());
    const before = await readMoney(world);
    createJob(world, 'replaced');
    const queued = await reconcileToPhase(world, 'replaced', 'Queued');
    const address = queued.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION];
    assert.ok(address !== undefined);
    const broadcasts = world.broadcasts.length;

    world.kube.annotate('NosanaJob', { namespace: NAMESPACE, name: 'replaced' }, { [JOB_ADDRESS_ANNOTATION]: null });
    // the same rewrite dropped the finalizer: it must be back with the annotation, in one write
    world.kube.setFinalizers('NosanaJob', { namespace: NAMESPACE, name: 'replaced' }, []);
    const restored = await reconcileUntil(world.reconciler, { namespace: NAMESPACE, name: 'replaced' }, () => {
      const object = jobObject(world, 'replaced');
      return object.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION] !== undefined && object.status?.phase === 'Queued' ? object : undefined;
    });
    await reconcile(world, 'replaced');
    assert.equal(restored.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION], address, 'the annotation is put back from the status');
    const restorePatch = world.kube.journal.findLast(
      (entry) => entry.verb === 'patchMetadata' && JOB_ADDRESS_ANNOTATION in ((entry.detail as { annotations?: object }).annotations ?? {}),
    );
    assert.deepEqual(
      (restorePatch?.detail as { addFinalizers?: string[] } | undefined)?.addFinalizers,
      [NOSANA_JOB_FINALIZER],
      'the finalizer is restored in the same write',
    );
    assert.ok(restored.metadata?.finalizers?.includes(NOSANA_JOB_FINALIZER));
    assert.equal(world.broadcasts.length, broadcasts, 'nothing was sent');
    assert.equal(jobObject(world, 'replaced').metadata?.annotations?.[PENDING_POST_ANNOTATION], undefined, 'no new post was prepared');
    assert.deepEqual(
      (await jobAccountsOf(world.localnet, world.wallet.publicKey)).map((job) => job.address),
      [address],
    );
    assert.ok(world.kube.events.reasons().includes('RecordRestored'));
    const after = await readMoney(world);
    assert.equal(after.ledger.poster, before.ledger.poster - DEPOSIT, 'one deposit paid');
  });

  test('a post in flight whose pending-post annotation was dropped is resolved from the status, not posted again', async (t) => {
    const world = await postWorld(t, getLocalnet());
    const before = await readMoney(world);
    createJob(world, 'forgotten');
    await reconcile(world, 'forgotten');
    const record = recordOf(world, 'forgotten');
    assert.ok(record !== undefined);
    assert.equal(jobObject(world, 'forgotten').status?.pendingPost?.signature, record.signature);

    world.kube.annotate('NosanaJob', { namespace: NAMESPACE, name: 'forgotten' }, { [PENDING_POST_ANNOTATION]: null });
    const queued = await reconcileToPhase(world, 'forgotten', 'Queued');
    assert.equal(queued.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION], record.jobAddress);
    assert.deepEqual(new Set(world.broadcasts), new Set([record.signature]), 'only the recorded transaction was ever sent');
    assert.deepEqual(
      (await jobAccountsOf(world.localnet, world.wallet.publicKey)).map((job) => job.address),
      [record.jobAddress],
    );
    const after = await readMoney(world);
    assert.equal(after.ledger.poster, before.ledger.poster - DEPOSIT, 'one deposit paid');
    assert.equal(after.ledger.total, before.ledger.total);
  });

  test('deleted with its pending-post annotation dropped: the post is still settled and the landed job delisted, not leaked', async (t) => {
    const world = await postWorld(t, getLocalnet());
    const before = await readMoney(world);
    createJob(world, 'dropped-then-deleted');
    const key = { namespace: NAMESPACE, name: 'dropped-then-deleted' };
    await reconcile(world, 'dropped-then-deleted');
    assert.ok(recordOf(world, 'dropped-then-deleted') !== undefined);
    await waitFor(async () => (await jobAccountsOf(world.localnet, world.wallet.publicKey)).length === 1, { what: 'the post to land' });
    world.kube.annotate('NosanaJob', key, { [PENDING_POST_ANNOTATION]: null });
    world.kube.delete('NosanaJob', key);
    await reconcileUntil(world.reconciler, key, () => world.kube.get('NosanaJob', key) === undefined);
    assert.equal((await jobAccountsOf(world.localnet, world.wallet.publicKey)).length, 0, 'the job that landed was delisted');
    const after = await readMoney(world);
    assert.equal(after.ledger.poster, before.ledger.poster, 'the deposit came back');
    assert.equal(after.ledger.total, before.ledger.total);
  });
});
