// Deleting a NosanaJob, against the localnet with the ledger checked: a queued job is delisted
// and refunded, a running one ended with its node paid for the time used, a finished one left as
// it is; deletionPolicy Orphan leaves the job on chain. Done only once a finalized read shows
// the job delisted, ended or closed: no single read lets the finalizer go.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { jobCost, jobDeposit } from '../../../src/chain/money.ts';
import { Keypair } from '@solana/web3.js';
import type { PublicKey } from '@solana/web3.js';
import { serializeWallet } from '../../../src/chain/wallet.ts';
import { secretWithKey } from '../../support/fake-kube.ts';
import type { ReadOptions } from '../../../src/chain/jobs-client.ts';
import { useLocalnet } from '../support.ts';
import {
  NAMESPACE,
  advanceTime,
  createJobResource,
  finalize,
  ledger,
  mirrorWorld,
  observe,
  postJob,
  runningJob,
  stillPolled,
} from './nosana-job-mirror-support.ts';

const PRICE = 10n;
const TIMEOUT = 600n;
const getLocalnet = useLocalnet({ chain: { slotMs: 50 } });

describe('NosanaJob deletion', () => {
  test('queued → delisted, the deposit refunded; done after the chain confirmed', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), {}, PRICE);
    const job = await postJob(world, TIMEOUT);
    createJobResource(world, 'queued', {}, job);
    await observe(world, 'queued', job);
    const before = await ledger(world);

    assert.deepEqual(
      await finalize(world, 'queued', job),
      { done: false, requeueAfterMs: 2_000 },
      'delisted; the finalizer waits for a finalized read',
    );
    assert.equal(await world.ports.jobs.getJob(job), undefined);
    assert.deepEqual(await finalize(world, 'queued', job), { done: true }, 'a finalized read shows the job closed');
    const after = await ledger(world);
    assert.equal(after.poster - before.poster, jobDeposit(PRICE, TIMEOUT));
    assert.equal(after.total, before.total);
    assert.deepEqual(world.metrics.actions, [{ network: 'localnet', action: 'delist', outcome: 'ok' }]);
    assert.ok(world.kube.events.reasons().includes('Cancelled'));
    assert.equal(await stillPolled(world, job), false);
  });

  test('running → ended: the node is paid for the time it ran, the rest refunded', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), {}, PRICE);
    const { job, node } = await runningJob(world, 'running', { timeout: TIMEOUT });
    await observe(world, 'running', job);
    advanceTime(world, 40);
    const before = await ledger(world, node);

    assert.deepEqual(await finalize(world, 'running', job), { done: false, requeueAfterMs: 2_000 });
    assert.deepEqual(await finalize(world, 'running', job), { done: true });
    const ended = await world.ports.jobs.getJob(job);
    assert.equal(ended?.status, 'COMPLETED');
    const elapsed = (ended?.account.timeEnd ?? 0n) - (ended?.account.timeStart ?? 0n);
    assert.ok(elapsed >= 40n && elapsed < TIMEOUT);
    const after = await ledger(world, node);
    assert.equal(after.node - before.node, jobCost(PRICE, elapsed, TIMEOUT), 'the node is paid price × elapsed');
    assert.equal(after.poster - before.poster, jobDeposit(PRICE, TIMEOUT) - jobCost(PRICE, elapsed, TIMEOUT), 'the unused part comes back');
    assert.equal(after.total, before.total);
    assert.deepEqual(
      world.metrics.refunded.map((entry) => entry.baseUnits),
      [jobDeposit(PRICE, TIMEOUT) - jobCost(PRICE, elapsed, TIMEOUT)],
    );
  });

  test('a job a node claimed between the job read and the market read is ended, not let go', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), {}, PRICE);
    const { job, node } = await runningJob(world, 'claimed', { timeout: TIMEOUT });
    await observe(world, 'claimed', job);
    // The job read comes from before the claim: QUEUED, no run. The market read shows the queue without it.
    const jobs = world.ports.jobs;
    const getJobs = jobs.getJobs.bind(jobs);
    let stale = true;
    Object.assign(jobs, {
      getJobs: async (addresses: readonly PublicKey[], options?: ReadOptions) => {
        const views = await getJobs(addresses, options);
        if (!stale) return views;
        return new Map(
          [...views].map(([key, view]) => [
            key,
            view === undefined ? view : { address: view.address, account: view.account, status: 'QUEUED' as const },
          ]),
        );
      },
    });
    const before = await ledger(world, node);

    assert.equal((await finalize(world, 'claimed', job)).done, false, 'a queued job missing from the queue is looked at again');
    assert.equal((await world.localnet.jobsClient().getJob(job))?.status, 'RUNNING', 'nothing was done on the stale read');
    stale = false;
    assert.equal((await finalize(world, 'claimed', job)).done, false, 'the running job is ended first');
    assert.equal((await world.localnet.jobsClient().getJob(job))?.status, 'COMPLETED');
    assert.deepEqual(await finalize(world, 'claimed', job), { done: true });
    assert.deepEqual(
      world.metrics.actions.map((entry) => entry.action),
      ['end'],
    );
    const after = await ledger(world, node);
    assert.ok(after.poster > before.poster, 'the unused deposit came back');
  });

  test('a posted job whose wallet Secret now holds another wallet keeps its finalizer: a paid job is never let go uncancelled', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), {}, PRICE);
    const job = await postJob(world, TIMEOUT);
    createJobResource(world, 'rotated', {}, job);
    await observe(world, 'rotated', job);
    world.kube.delete('Secret', { namespace: NAMESPACE, name: 'poster-wallet' });
    world.kube.create(secretWithKey(NAMESPACE, 'poster-wallet', 'keypair', serializeWallet(Keypair.generate())));

    const outcome = await finalize(world, 'rotated', job);
    assert.equal(outcome.done, false, 'the finalizer stays');
    assert.ok(world.kube.events.reasons().includes('CancelBlocked'));
    assert.equal((await world.ports.jobs.getJob(job))?.status, 'QUEUED');
    assert.deepEqual(world.metrics.actions, []);
  });

  test('deleted right after landing, read from nodes that have not seen the job yet: the finalizer waits, then the job is delisted', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), {}, PRICE);
    const job = await postJob(world, TIMEOUT);
    createJobResource(world, 'fresh', {}, job);
    const jobs = world.ports.jobs;
    const getJobs = jobs.getJobs.bind(jobs);
    let lagging = true;
    Object.assign(jobs, {
      getJobs: async (addresses: readonly PublicKey[], options?: ReadOptions) => {
        const views = await getJobs(addresses, options);
        return lagging ? new Map([...views.keys()].map((key) => [key, undefined])) : views;
      },
    });
    assert.equal(
      (await finalize(world, 'fresh', job)).done,
      false,
      'missing on every read, confirmed and finalized alike: not believed yet',
    );
    assert.equal((await world.ports.jobs.getJob(job))?.status, undefined);
    lagging = false;
    assert.equal((await finalize(world, 'fresh', job)).done, false, 'seen: delisted');
    assert.equal(await world.ports.jobs.getJob(job), undefined);
    assert.deepEqual(await finalize(world, 'fresh', job), { done: true });
    assert.deepEqual(
      world.metrics.actions.map((entry) => entry.action),
      ['delist'],
    );
  });

  test('deletionPolicy Orphan: done at once, the job stays queued on chain and nothing is paid or refunded', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), {}, PRICE);
    const job = await postJob(world, TIMEOUT);
    createJobResource(world, 'orphan', { deletionPolicy: 'Orphan' }, job);
    await observe(world, 'orphan', job);
    const before = await ledger(world);

    assert.deepEqual(await finalize(world, 'orphan', job), { done: true });
    assert.equal((await world.ports.jobs.getJob(job))?.status, 'QUEUED');
    assert.deepEqual(await ledger(world), before);
    assert.deepEqual(world.metrics.actions, []);
    assert.ok(world.kube.events.reasons().includes('Orphaned'));
  });

  test('a finished job, or none posted, needs nothing', async (t) => {
    const world = await mirrorWorld(t, getLocalnet(), {}, PRICE);
    const { job, node } = await runningJob(world, 'finished', { timeout: TIMEOUT });
    await node.finish(job, [{ id: 'serve', exitCode: 0 }]);
    createJobResource(world, 'never-posted', {});

    assert.deepEqual(await finalize(world, 'finished', job), { done: true });
    assert.deepEqual(await finalize(world, 'never-posted', undefined), { done: true });
    assert.equal((await world.ports.jobs.getJob(job))?.status, 'COMPLETED', 'left as it is (never cleaned)');
    assert.deepEqual(world.metrics.actions, []);
  });
});
