// Level-based: a reconcile that sees nothing new writes nothing, whatever the phase, and a job
// that has ended is not looked at again by a timer. Driven through the whole reconciler, with the
// fake API server's write journal as the witness.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PublicKey } from '@solana/web3.js';
import { JOB_ADDRESS_ANNOTATION } from '../../../src/api/annotations.ts';
import { jobDeposit } from '../../../src/chain/money.ts';
import { TestNode } from '../../harness/nosana-ledger.ts';
import { useLocalnet } from '../support.ts';
import {
  MARKET_TIMEOUT,
  PRICE,
  createJob,
  jobObject,
  postWorld,
  readyReason,
  reconcile,
  reconcileToPhase,
} from './nosana-job-post-support.ts';
import type { PostWorld } from './nosana-job-post-support.ts';

const getLocalnet = useLocalnet({ chain: { slotMs: 50 } });

/** Reconciles `name` again (the watcher's snapshot made fresh first) and returns what it wrote and asked for. */
async function quietReconcile(
  world: PostWorld,
  name: string,
  job?: PublicKey,
): Promise<{ writes: number; requeueAfterMs: number | undefined }> {
  if (job !== undefined) await world.ports.watcher.job(job, { maxAgeMs: 0 });
  const before = world.kube.journal.length;
  const outcome = await reconcile(world, name);
  return { writes: world.kube.journal.length - before, requeueAfterMs: outcome?.requeueAfterMs };
}

describe('NosanaJob reconciles that see nothing new', () => {
  test('write nothing while refused, queued, running or ended, and an ended job is not polled', async (t) => {
    const poorWorld = await postWorld(t, getLocalnet(), { funding: { sol: 1n, nos: jobDeposit(PRICE, MARKET_TIMEOUT) - 1n } });
    createJob(poorWorld, 'poor');
    await reconcile(poorWorld, 'poor');
    assert.equal(readyReason(jobObject(poorWorld, 'poor')), 'InsufficientFunds');
    assert.equal((await quietReconcile(poorWorld, 'poor')).writes, 0, 'refused again for the same reason: nothing written');

    const richWorld = await postWorld(t, getLocalnet());
    createJob(richWorld, 'steady');
    const queued = await reconcileToPhase(richWorld, 'steady', 'Queued');
    const job = new PublicKey(queued.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION] ?? '');
    const whileQueued = await quietReconcile(richWorld, 'steady', job);
    assert.deepEqual(whileQueued, { writes: 0, requeueAfterMs: richWorld.deps.options.pollIntervalMs });

    const node = await TestNode.join(richWorld.localnet);
    await node.work(richWorld.market);
    await reconcileToPhase(richWorld, 'steady', 'Running');
    const whileRunning = await quietReconcile(richWorld, 'steady', job);
    assert.deepEqual(whileRunning, { writes: 0, requeueAfterMs: richWorld.deps.options.pollIntervalMs });

    await node.finish(job, [{ id: 'hello', exitCode: 0, logs: ['hello'] }]);
    await reconcileToPhase(richWorld, 'steady', 'Succeeded');
    const ended = await quietReconcile(richWorld, 'steady');
    assert.deepEqual(ended, { writes: 0, requeueAfterMs: undefined }, 'an ended job writes nothing and asks for no timer');
    assert.equal(richWorld.broadcasts.length > 0 && new Set(richWorld.broadcasts).size, 1, 'one post in all');
  });
});

describe('NosanaJob writes within one reconcile', () => {
  test('a status written mid-reconcile (the intent before recover) does not make the next write stale: one Reposting, one reconcile', async (t) => {
    const world = await postWorld(t, getLocalnet());
    createJob(world, 'flaky', { retries: 1 });
    const queued = await reconcileToPhase(world, 'flaky', 'Queued');
    const first = new PublicKey(queued.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION] ?? '');
    const node = await TestNode.join(world.localnet);
    await node.work(world.market);
    await reconcileToPhase(world, 'flaky', 'Running');
    await node.quit(first);
    await world.ports.watcher.job(first, { maxAgeMs: 0 });

    // One reconcile records the intent, recovers, and clears the job address for the next attempt.
    const outcome = await reconcile(world, 'flaky');
    const after = jobObject(world, 'flaky');
    assert.equal(after.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION], undefined, 'the job address was cleared in the same reconcile');
    assert.deepEqual(
      after.status?.attempts?.map((attempt) => attempt.outcome),
      ['NodeQuit'],
    );
    assert.ok((outcome?.requeueAfterMs ?? 0) <= 1_000, 'the next attempt is posted soon');

    await reconcileToPhase(world, 'flaky', 'Queued');
    assert.equal(world.kube.events.reasons().filter((reason) => reason === 'Reposting').length, 1, 'the repost was announced once');
    assert.equal(new Set(world.broadcasts).size, 2, 'two posts in all: the first attempt and its retry');
  });
});
