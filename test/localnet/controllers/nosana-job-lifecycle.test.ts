// Nothing is left hanging, against the localnet with the ledger checked: a job queued past
// spec.queueTimeout is delisted and refunded; a quit job is recovered and posted again while
// spec.retries allows; a silent node's job is ended and, without a result, Failed/NoResult; a
// raised spec.timeout is paid for with extend. Endings recorded before acting survive a crash.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PublicKey } from '@solana/web3.js';
import { JOB_ADDRESS_ANNOTATION } from '../../../src/api/annotations.ts';
import type { ReadOptions } from '../../../src/chain/jobs-client.ts';
import { jobCost, jobDeposit } from '../../../src/chain/money.ts';
import { cidToBytes32 } from '../../../src/ipfs/cid.ts';
import { reconcileUntil } from '../../support/fake-kube.ts';
import { useLocalnet } from '../support.ts';
import type { MirrorWorld } from './nosana-job-mirror-support.ts';
import type { NosanaJobObject } from '../../../src/api/crds/nosana-job.ts';
import {
  DEFINITION,
  NAMESPACE,
  advanceTime,
  createJobResource,
  jobResource,
  ledger,
  mirrorWorld,
  observe,
  postJob,
  readyReason,
  runningJob,
} from './nosana-job-mirror-support.ts';

const PRICE = 10n;
const getLocalnet = useLocalnet({ chain: { slotMs: 50 } });

function readyMessage(world: MirrorWorld, name: string): string {
  return jobResource(world, name).status?.conditions?.find((condition) => condition.type === 'Ready')?.message ?? '';
}

describe('NosanaJob lifecycle', () => {
  test('queued past spec.queueTimeout: delisted, the deposit refunded, Stopped/QueueTimeout', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), {}, PRICE);
    const job = await postJob(world, 600n);
    createJobResource(world, 'patient', { queueTimeout: '1m' }, job);
    assert.equal((await observe(world, 'patient', job)).object.status?.phase, 'Queued');
    // The clock runs on in real time and postedAt is in whole seconds: keep clear of the boundary.
    world.clock.advance(55_000);
    assert.equal((await observe(world, 'patient', job)).object.status?.phase, 'Queued', 'not before the minute is up');
    const before = await ledger(world);

    world.clock.advance(6_000);
    const { outcome, object } = await observe(world, 'patient', job);
    assert.equal(object.status?.phase, 'Stopped');
    assert.equal(readyReason(object), 'QueueTimeout');
    assert.deepEqual(outcome, {});
    assert.equal(await world.ports.jobs.getJob(job), undefined, 'the job account is closed');
    const after = await ledger(world);
    assert.equal(after.poster - before.poster, jobDeposit(PRICE, 600n), 'the whole deposit came back');
    assert.equal(after.vault, before.vault - jobDeposit(PRICE, 600n));
    assert.equal(after.total, before.total);
    assert.deepEqual(
      world.metrics.refunded.map((entry) => entry.baseUnits),
      [jobDeposit(PRICE, 600n)],
    );
    assert.deepEqual(world.metrics.actions, [{ network: 'localnet', action: 'delist', outcome: 'ok' }]);
    assert.deepEqual(
      object.status?.attempts?.map((attempt) => attempt.outcome),
      ['QueueTimeout'],
    );
    // The ending was written before the delist was sent.
    const written = world.kube.journal
      .filter((entry) => entry.verb === 'applyStatus')
      .map((entry) => (entry.detail as typeof object.status)?.attempts?.[0]?.outcome);
    assert.deepEqual(written.slice(-2), ['QueueTimeout', 'QueueTimeout']);
  });

  test("a gone job is told apart by the ending recorded before acting: ours → QueueTimeout, someone else's → Cancelled", async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), {}, PRICE);
    const [ours, theirs] = [await postJob(world, 600n), await postJob(world, 600n)];
    for (const [name, job] of [
      ['ours', ours],
      ['theirs', theirs],
    ] as const) {
      createJobResource(world, name, { queueTimeout: 60 }, job);
      await observe(world, name, job);
      await world.ports.jobs.delist(world.localnet.poster, job);
    }
    // A crash after the delist: the intent was written, the final status was not.
    const status = jobResource(world, 'ours').status;
    world.kube.setStatus(
      'NosanaJob',
      { namespace: NAMESPACE, name: 'ours' },
      { ...status, attempts: status?.attempts?.map((attempt) => ({ ...attempt, outcome: 'QueueTimeout' })) },
    );
    world.clock.advance(61_000);

    assert.equal(readyReason((await observe(world, 'ours', ours)).object), 'QueueTimeout');
    // No single read ends a queued job: it is missing now, and counts as closed once it stays missing.
    assert.equal((await observe(world, 'theirs', theirs)).object.status?.phase, 'Queued', 'one missing read changes nothing');
    world.clock.advance(59_000);
    assert.equal((await observe(world, 'theirs', theirs)).object.status?.phase, 'Queued', 'not within the minute');
    world.clock.advance(2_000);
    const { object } = await observe(world, 'theirs', theirs);
    assert.equal(object.status?.phase, 'Stopped');
    assert.equal(readyReason(object), 'Cancelled');
    assert.match(readyMessage(world, 'theirs'), /no longer exists on chain/);
    assert.deepEqual(world.metrics.actions, [], 'neither job was acted on by the mirror');
  });

  test('one empty read of a queued job ends nothing: it stays Queued, and spec.queueTimeout still delists it', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), {}, PRICE);
    const job = await postJob(world, 600n);
    createJobResource(world, 'flicker', { queueTimeout: '2m' }, job);
    assert.equal((await observe(world, 'flicker', job)).object.status?.phase, 'Queued');
    // A lagging RPC backend answers confirmed reads as if the account did not exist, for one
    // reconcile (the watcher's own poll included, whenever it runs); finalized reads see it.
    const jobs = world.ports.jobs;
    const getJobs = jobs.getJobs.bind(jobs);
    let lagging = true;
    Object.assign(jobs, {
      getJobs: async (addresses: readonly PublicKey[], options?: ReadOptions) => {
        const views = await getJobs(addresses, options);
        if (!lagging || options?.commitment === 'finalized') return views;
        return new Map([...views.keys()].map((key) => [key, undefined]));
      },
    });
    const flickered = (await observe(world, 'flicker', job)).object;
    lagging = false;
    assert.equal(flickered.status?.phase, 'Queued');
    assert.ok(flickered.status?.attempts?.[0]?.missingSince !== undefined, 'the missing read is remembered, not acted on');
    const seenAgain = (await observe(world, 'flicker', job)).object;
    assert.equal(seenAgain.status?.attempts?.[0]?.missingSince, undefined, 'seen again: forgotten');

    world.clock.advance(121_000);
    const { object } = await observe(world, 'flicker', job);
    assert.equal(readyReason(object), 'QueueTimeout', 'the queue timeout still fires');
    assert.equal(await world.ports.jobs.getJob(job), undefined, 'delisted');
  });

  test('node quit: the deposit is recovered and a repost asked for while spec.retries allows; then Stopped/NodeQuit', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), {}, PRICE);
    // With a definition of its own: the reconciler posts the retry itself.
    const { job: first, node } = await runningJob(world, 'flaky', {
      spec: { retries: 1, definition: DEFINITION as NosanaJobObject['spec']['definition'] },
    });
    assert.equal((await observe(world, 'flaky', first)).object.status?.phase, 'Running');
    await node.quit(first);
    const before = await ledger(world, node);

    const retry = await observe(world, 'flaky', first);
    assert.equal(
      retry.object.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION],
      undefined,
      'a repost is asked for: the job address makes way for the next post',
    );
    assert.ok((retry.outcome.requeueAfterMs ?? Infinity) <= 1_000, 'and it comes soon');
    assert.equal(await world.ports.jobs.getJob(first), undefined, 'recover closed the job');
    const recovered = await ledger(world, node);
    assert.equal(recovered.poster - before.poster, jobDeposit(PRICE, 600n), 'the whole deposit came back');
    assert.equal(recovered.node, before.node, 'the quitting node is paid nothing');
    assert.deepEqual(
      retry.object.status?.attempts?.map((attempt) => [attempt.jobAddress, attempt.outcome]),
      [[first.toBase58(), 'NodeQuit']],
    );
    assert.equal(retry.object.status?.jobAddress, undefined, 'the next attempt fills in its own job');
    assert.ok(world.kube.events.reasons().includes('Reposting'));

    // The reconciler posts the second attempt itself; its node quits too, and no retry is left.
    const reposted = await reconcileUntil(world.reconciler, { namespace: NAMESPACE, name: 'flaky' }, () => {
      const address = jobResource(world, 'flaky').metadata?.annotations?.[JOB_ADDRESS_ANNOTATION];
      return jobResource(world, 'flaky').status?.phase === 'Queued' && address !== undefined ? address : undefined;
    });
    const second = new PublicKey(reposted);
    await node.work(world.market);
    assert.equal((await observe(world, 'flaky', second)).object.status?.phase, 'Running');
    await node.quit(second);
    const { outcome, object } = await observe(world, 'flaky', second);
    assert.deepEqual(outcome, {});
    assert.equal(object.status?.phase, 'Stopped');
    assert.equal(readyReason(object), 'NodeQuit');
    assert.deepEqual(
      object.status?.attempts?.map((attempt) => attempt.outcome),
      ['NodeQuit', 'NodeQuit'],
    );
    const after = await ledger(world, node);
    assert.equal(
      after.poster - before.poster,
      2n * jobDeposit(PRICE, 600n) - jobDeposit(PRICE, 600n),
      'both deposits came back (the second was paid after `before`)',
    );
    assert.equal(after.total, before.total);
    assert.deepEqual(
      world.metrics.actions.map((entry) => entry.action),
      ['recover', 'recover'],
    );
  });

  test('dead node: ended past run start + timeout + grace (node paid the timeout), then Failed/NoResult when no result arrives', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), { deadNodeGraceMs: 5_000, resultWaitMs: 30_000 }, PRICE);
    const { job, node } = await runningJob(world, 'silent', { timeout: 60n });
    await observe(world, 'silent', job);
    advanceTime(world, 62);
    assert.equal((await world.ports.jobs.getJob(job))?.status, 'RUNNING');
    assert.equal((await observe(world, 'silent', job)).object.status?.phase, 'Running', 'within the grace period the node is given time');
    const before = await ledger(world, node);

    advanceTime(world, 5);
    await observe(world, 'silent', job);
    const ended = await world.ports.jobs.getJob(job);
    assert.equal(ended?.status, 'COMPLETED', 'the job was ended');
    const after = await ledger(world, node);
    assert.equal(after.node - before.node, jobCost(PRICE, 67n, 60n), 'the node is paid for the timeout, no more');
    assert.equal(after.poster, before.poster, 'the whole deposit was used: nothing to refund');
    assert.deepEqual(
      world.metrics.actions.map((entry) => entry.action),
      ['end'],
    );

    const waiting = await observe(world, 'silent', job);
    assert.equal(waiting.object.status?.phase, 'Running');
    assert.match(readyMessage(world, 'silent'), /waiting until .* for its node's result/);
    assert.equal(waiting.outcome.requeueAfterMs, world.deps.options.pollIntervalMs);

    advanceTime(world, 31);
    const { object, outcome } = await observe(world, 'silent', job);
    assert.equal(object.status?.phase, 'Failed');
    assert.equal(readyReason(object), 'NoResult');
    assert.deepEqual(outcome, {});
    assert.deepEqual(
      object.status?.attempts?.map((attempt) => attempt.outcome),
      ['NoResult'],
    );
    assert.equal(object.status?.costBaseUnits, jobCost(PRICE, 67n, 60n).toString());
    assert.deepEqual(
      world.metrics.actions.map((entry) => entry.action),
      ['end'],
      'ended once',
    );
  });

  test('dead node that comes back: its result delivered with `complete` after the end is mirrored', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), { deadNodeGraceMs: 1_000, resultWaitMs: 600_000 }, PRICE);
    const { job, node } = await runningJob(world, 'late', { timeout: 30n });
    advanceTime(world, 32);
    await observe(world, 'late', job);
    assert.equal((await world.ports.jobs.getJob(job))?.status, 'COMPLETED');

    const cid = await node.pinResult([
      { id: 'cache', exitCode: 0 },
      { id: 'serve', exitCode: 0, status: 'stopped', logs: ['stopping'] },
    ]);
    await world.ports.jobs.complete(node.key, job, cidToBytes32(cid));
    const { object } = await observe(world, 'late', job);
    assert.equal(object.status?.ipfsResult, cid);
    assert.equal(object.status?.phase, 'Failed', "the document's flow status is failed (an op did not succeed)");
    assert.deepEqual(
      object.status?.ops?.map((op) => [op.id, op.status]),
      [
        ['cache', 'success'],
        ['serve', 'stopped'],
      ],
    );
  });

  test('raising spec.timeout on a running job extends it on chain, charged the difference, once', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), {}, PRICE);
    const { job } = await runningJob(world, 'longer', { spec: { timeout: 600 } });
    await observe(world, 'longer', job);
    const before = await ledger(world);

    world.kube.updateSpec('NosanaJob', { namespace: NAMESPACE, name: 'longer' }, { ...jobResource(world, 'longer').spec, timeout: '15m' });
    const { object } = await observe(world, 'longer', job);
    assert.equal((await world.ports.jobs.getJob(job))?.account.timeout, 900n);
    const after = await ledger(world);
    assert.equal(before.poster - after.poster, PRICE * 300n, 'charged price × the 300 added seconds');
    assert.equal(after.vault - before.vault, PRICE * 300n);
    assert.deepEqual(
      world.metrics.spent.map((entry) => entry.baseUnits),
      [PRICE * 300n],
    );
    assert.ok(world.kube.events.list.some((event) => event.reason === 'TimeoutExtended' && /from 600s to 900s/.test(event.note)));
    assert.equal(object.status?.phase, 'Running');
    assert.equal(object.status?.observedGeneration, 2);

    await observe(world, 'longer', job);
    assert.deepEqual(
      world.metrics.actions.map((entry) => entry.action),
      ['extend'],
      'an extended job is not extended again',
    );
  });

  test('a raised spec.timeout that would cost more than spec.maxCost is not paid for; it is once maxCost allows it', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), {}, PRICE);
    // 600 s at 10 base units/s is 0.006 NOS: exactly the budget.
    const { job } = await runningJob(world, 'capped', { spec: { timeout: 600, maxCost: '0.006' } });
    await observe(world, 'capped', job);
    const before = await ledger(world);

    const key = { namespace: NAMESPACE, name: 'capped' };
    world.kube.updateSpec('NosanaJob', key, { ...jobResource(world, 'capped').spec, timeout: '15m' });
    const { object } = await observe(world, 'capped', job);
    assert.equal((await world.ports.jobs.getJob(job))?.account.timeout, 600n, 'not extended');
    assert.deepEqual(await ledger(world), before, 'nothing paid');
    assert.deepEqual(world.metrics.actions, []);
    assert.equal(object.status?.phase, 'Running', 'the job runs on with the timeout it has');
    const refused = world.kube.events.list.find((event) => event.reason === 'ExtendRefused');
    assert.match(refused?.note ?? '', /to 900s would make it cost up to 0\.009 NOS, more than spec\.maxCost of 0\.006 NOS/);
    assert.equal(refused?.type, 'Warning');

    world.kube.updateSpec('NosanaJob', key, { ...jobResource(world, 'capped').spec, maxCost: '0.009' });
    await observe(world, 'capped', job);
    assert.equal((await world.ports.jobs.getJob(job))?.account.timeout, 900n);
    assert.equal(before.poster - (await ledger(world)).poster, PRICE * 300n);
  });
});
