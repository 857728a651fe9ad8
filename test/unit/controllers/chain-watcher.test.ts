// The batched chain poller, against a scripted JobsClient that counts its calls: reads close
// together become one batch, fresh snapshots cost nothing, and a poll covers every tracked job in
// one batch plus one read per distinct market of queued jobs. With scripted subscriptions: a
// notification is believed only through a read at its slot, wakes the job's followers, and the
// snapshots stay fresh only while every subscription they depend on is in place.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair, PublicKey } from '@solana/web3.js';
import type { JobAccount } from '../../../src/chain/accounts.ts';
import { AccountDecodeError, OFFSETS } from '../../../src/chain/accounts.ts';
import type { JobStatus, JobView, JobsClient, MarketView, ReadOptions } from '../../../src/chain/jobs-client.ts';
import type { ProgramFilter } from '../../../src/chain/program-subscription.ts';
import { BatchedChainJobWatcher } from '../../../src/controllers/chain-watcher.ts';
import type { ProgramSubscriptions, SubscriptionHandlers } from '../../../src/controllers/chain-watcher.ts';
import type { ObjectKey } from '../../../src/runtime/types.ts';

const key = (): PublicKey => Keypair.generate().publicKey;

/** A chain the test edits: jobs and markets by address; every read is logged. */
class ScriptedChain {
  readonly jobs = new Map<string, JobView>();
  readonly markets = new Map<string, MarketView>();
  readonly getJobsCalls: string[][] = [];
  readonly getJobsOptions: (ReadOptions | undefined)[] = [];
  /** The runs each read asked for with its jobs (getJobsWithRuns); undefined for a plain getJobs. */
  readonly runsAsked: (string[] | undefined)[] = [];
  readonly getMarketCalls: string[] = [];
  failNext: Error | undefined;

  client(): JobsClient {
    const client: Pick<JobsClient, 'getJobs' | 'getJobsWithRuns' | 'getMarket'> = {
      getJobsWithRuns: async (addresses, runs, options) => {
        const views = await client.getJobs(addresses, options);
        this.runsAsked[this.runsAsked.length - 1] = runs.map((run) => run.toBase58());
        return views;
      },
      getJobs: async (addresses, options) => {
        this.getJobsCalls.push(addresses.map((address) => address.toBase58()));
        this.getJobsOptions.push(options);
        this.runsAsked.push(undefined);
        if (this.failNext !== undefined) {
          const error = this.failNext;
          this.failNext = undefined;
          throw error;
        }
        return new Map(addresses.map((address) => [address.toBase58(), this.jobs.get(address.toBase58())]));
      },
      getMarket: async (address) => {
        this.getMarketCalls.push(address.toBase58());
        return this.markets.get(address.toBase58());
      },
    };
    return client as JobsClient;
  }

  addJob(market: PublicKey, status: JobStatus = 'QUEUED', project = PublicKey.default): PublicKey {
    const address = key();
    const account: JobAccount = {
      ipfsJob: new Uint8Array(32),
      ipfsResult: new Uint8Array(32),
      market,
      node: PublicKey.default,
      payer: PublicKey.default,
      price: 100n,
      project,
      state: 0,
      timeEnd: 0n,
      timeStart: 0n,
      timeout: 600n,
    };
    this.jobs.set(address.toBase58(), { address, account, status });
    return address;
  }

  setQueue(market: PublicKey, queue: PublicKey[]): void {
    this.markets.set(market.toBase58(), {
      address: market,
      account: {
        authority: PublicKey.default,
        jobExpiration: 0n,
        jobPrice: 100n,
        jobTimeout: 600n,
        jobType: 0,
        vault: PublicKey.default,
        vaultBump: 0,
        nodeAccessKey: PublicKey.default,
        nodeXnosMinimum: 0n,
        queueType: 0,
        queue,
      },
    });
  }

  update(address: PublicKey, change: Partial<JobView>): void {
    const current = this.jobs.get(address.toBase58());
    assert.ok(current !== undefined);
    this.jobs.set(address.toBase58(), { ...current, ...change });
  }
}

function watcherFor(chain: ScriptedChain, pollIntervalMs = 60_000): BatchedChainJobWatcher {
  return new BatchedChainJobWatcher({ jobs: chain.client(), pollIntervalMs });
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('BatchedChainJobWatcher', () => {
  test('reads arriving together are one getJobs call; each caller gets its own job', async () => {
    const chain = new ScriptedChain();
    const market = key();
    const jobs = [chain.addJob(market), chain.addJob(market), chain.addJob(market, 'RUNNING')];
    const watcher = watcherFor(chain);
    try {
      const views = await Promise.all([...jobs, jobs[0]!].map((job) => watcher.job(job)));
      assert.equal(chain.getJobsCalls.length, 1);
      assert.equal(chain.getJobsCalls[0]?.length, 3, 'a job asked for twice is fetched once');
      views.forEach((view, index) => assert.ok(view?.address.equals([...jobs, jobs[0]!][index]!)));
    } finally {
      watcher.close();
    }
  });

  test('a snapshot younger than maxAgeMs is served without a request; maxAgeMs 0 always reads', async () => {
    const chain = new ScriptedChain();
    const job = chain.addJob(key());
    const watcher = watcherFor(chain);
    try {
      await watcher.job(job);
      await watcher.job(job);
      await watcher.job(job, { maxAgeMs: 60_000 });
      assert.equal(chain.getJobsCalls.length, 1);
      chain.update(job, { status: 'RUNNING' });
      assert.equal((await watcher.job(job, { maxAgeMs: 0 }))?.status, 'RUNNING');
      assert.equal(chain.getJobsCalls.length, 2);
    } finally {
      watcher.close();
    }
  });

  test('a poll reads every tracked job in one batch and only the markets of queued jobs, once each', async () => {
    const chain = new ScriptedChain();
    const [marketA, marketB, marketC] = [key(), key(), key()];
    const queued = [chain.addJob(marketA), chain.addJob(marketA), chain.addJob(marketB)];
    const running = chain.addJob(marketC, 'RUNNING');
    chain.setQueue(marketA, queued.slice(0, 2));
    chain.setQueue(marketB, [queued[2]!]);
    const watcher = watcherFor(chain);
    try {
      for (const job of [...queued, running]) watcher.track(job);
      await watcher.pollOnce();
      assert.equal(chain.getJobsCalls.length, 1);
      assert.equal(chain.getJobsCalls[0]?.length, 4);
      assert.deepEqual(chain.getMarketCalls.sort(), [marketA.toBase58(), marketB.toBase58()].sort());
      // The reconciles that follow read the poll's snapshots: no request of their own.
      await Promise.all([...queued, running].map((job) => watcher.job(job)));
      await watcher.market(marketA);
      assert.equal(chain.getJobsCalls.length, 1);
      assert.equal(chain.getMarketCalls.length, 2);
    } finally {
      watcher.close();
    }
  });

  test('a forgotten job is no longer polled', async () => {
    const chain = new ScriptedChain();
    const [kept, dropped] = [chain.addJob(key(), 'RUNNING'), chain.addJob(key(), 'RUNNING')];
    const watcher = watcherFor(chain);
    try {
      watcher.track(kept);
      watcher.track(dropped);
      watcher.forget(dropped);
      await watcher.pollOnce();
      assert.deepEqual(chain.getJobsCalls, [[kept.toBase58()]]);
    } finally {
      watcher.close();
    }
  });

  test('the timer polls tracked jobs by itself and survives a failing poll; close stops it', async () => {
    const chain = new ScriptedChain();
    const job = chain.addJob(key(), 'RUNNING');
    const watcher = watcherFor(chain, 10);
    watcher.track(job);
    chain.failNext = new Error('RPC getMultipleAccounts failed');
    await eventually(() => chain.getJobsCalls.length >= 3, 'three polls');
    chain.update(job, { status: 'COMPLETED' });
    const polled = chain.getJobsCalls.length;
    await eventually(() => chain.getJobsCalls.length > polled, 'a poll sent after the change');
    assert.equal((await watcher.job(job, { maxAgeMs: 60_000 }))?.status, 'COMPLETED', 'the poll refreshed the snapshot');
    watcher.close();
    const calls = chain.getJobsCalls.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(chain.getJobsCalls.length <= calls + 1, 'no poll starts after close (one may have been under way)');
  });

  test('a poll sent before a fresh read cannot replace the fresh snapshot with what it saw earlier', async () => {
    const chain = new ScriptedChain();
    const job = chain.addJob(key(), 'RUNNING');
    const client = chain.client();
    let releasePoll: (() => void) | undefined;
    const held: JobsClient = Object.assign(Object.create(client) as JobsClient, {
      getJobs: async (addresses: readonly PublicKey[]) => {
        const seen = await client.getJobs(addresses);
        // The poll's answer reflects the chain when it was sent; it arrives late.
        if (releasePoll === undefined)
          await new Promise<void>((resolve) => {
            releasePoll = resolve;
          });
        return seen;
      },
    });
    const watcher = new BatchedChainJobWatcher({ jobs: held, pollIntervalMs: 60_000 });
    try {
      watcher.track(job);
      const poll = watcher.pollOnce();
      await eventually(() => releasePoll !== undefined, 'the poll to be under way');
      // The operator ends the job and reads it fresh (as endJob and extendJob do).
      chain.update(job, { status: 'COMPLETED' });
      assert.equal((await watcher.job(job, { maxAgeMs: 0 }))?.status, 'COMPLETED');
      releasePoll?.();
      await poll;
      assert.equal((await watcher.job(job))?.status, 'COMPLETED', 'the older poll answer did not win');
    } finally {
      watcher.close();
    }
  });

  test('a failed read rejects every caller of that batch, and the next read tries again', async () => {
    const chain = new ScriptedChain();
    const [a, b] = [chain.addJob(key()), chain.addJob(key())];
    const watcher = watcherFor(chain);
    try {
      chain.failNext = new Error('RPC unavailable');
      const results = await Promise.allSettled([watcher.job(a), watcher.job(b)]);
      assert.deepEqual(
        results.map((result) => result.status),
        ['rejected', 'rejected'],
      );
      assert.ok((await watcher.job(a))?.address.equals(a));
    } finally {
      watcher.close();
    }
  });
});

/** Program subscriptions the test puts in place and drops by hand; notices are sent through `handlers`. */
class ScriptedSubscriptions implements ProgramSubscriptions {
  readonly added = new Map<string, ProgramFilter[]>();
  readonly #since = new Map<string, number>();
  handlers: SubscriptionHandlers | undefined;

  add(name: string, filters: ProgramFilter[]): void {
    this.added.set(name, filters);
  }

  activeSince(name: string): number | undefined {
    return this.#since.get(name);
  }

  remove(name: string): void {
    this.added.delete(name);
    this.#since.delete(name);
  }

  /** Every subscription added so far comes into place now. */
  activateAll(): void {
    for (const name of this.added.keys()) this.#since.set(name, performance.now());
    this.handlers?.onChange();
  }

  drop(): void {
    this.#since.clear();
    this.handlers?.onChange();
  }

  close(): void {
    this.#since.clear();
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('BatchedChainJobWatcher with subscriptions', () => {
  const project = key();
  const owner: ObjectKey = { namespace: 'team-a', name: 'render' };

  function subscribedWatcher(chain: ScriptedChain, pollIntervalMs: number) {
    const subscriptions = new ScriptedSubscriptions();
    const woken: ObjectKey[] = [];
    const watcher = new BatchedChainJobWatcher({
      jobs: chain.client(),
      pollIntervalMs,
      resyncIntervalMs: 60_000,
      wake: (key) => woken.push(key),
      subscribe: (handlers) => {
        subscriptions.handlers = handlers;
        return subscriptions;
      },
    });
    return { watcher, subscriptions, woken };
  }

  test("tracking subscribes to the program's runs; the first read of a job subscribes to its wallet's job accounts", async () => {
    const chain = new ScriptedChain();
    const job = chain.addJob(key(), 'QUEUED', project);
    const { watcher, subscriptions } = subscribedWatcher(chain, 60_000);
    try {
      watcher.track(job, owner);
      assert.deepEqual([...subscriptions.added.keys()], ['runs']);
      await watcher.job(job);
      assert.deepEqual([...subscriptions.added.keys()], ['runs', `jobs:${project.toBase58()}`]);
      const filters = subscriptions.added.get(`jobs:${project.toBase58()}`);
      assert.deepEqual(filters?.[1], { memcmp: { offset: OFFSETS.job.project, bytes: project.toBase58() } }, 'only this wallet’s jobs');
    } finally {
      watcher.close();
    }
  });

  test('a snapshot read once the subscriptions are in place stays fresh past the poll interval; one read before them does not', async () => {
    const chain = new ScriptedChain();
    const job = chain.addJob(key(), 'QUEUED', project);
    const { watcher, subscriptions } = subscribedWatcher(chain, 30);
    try {
      watcher.track(job, owner);
      await watcher.job(job);
      subscriptions.activateAll();
      await pause(60);
      await watcher.job(job);
      assert.equal(chain.getJobsCalls.length >= 2, true, 'read before the subscriptions: aged out at the poll interval');
      const calls = chain.getJobsCalls.length;
      await pause(60);
      await watcher.job(job);
      assert.equal(chain.getJobsCalls.length, calls, 'covered by the subscriptions: served without a request');
      subscriptions.drop();
      await pause(60);
      await watcher.job(job);
      assert.ok(chain.getJobsCalls.length > calls, 'the socket dropped: aged out at the poll interval again');
    } finally {
      watcher.close();
    }
  });

  test('a job notice is read again at the notified slot or later, then wakes its followers; a notice of an untracked job costs nothing', async () => {
    const chain = new ScriptedChain();
    const job = chain.addJob(key(), 'QUEUED', project);
    const stranger = chain.addJob(key(), 'QUEUED', project);
    const { watcher, subscriptions, woken } = subscribedWatcher(chain, 60_000);
    try {
      watcher.track(job, owner);
      await watcher.job(job);
      subscriptions.activateAll();
      await watcher.job(job, { maxAgeMs: 0 });
      const calls = chain.getJobsCalls.length;
      const jobs = `jobs:${project.toBase58()}`;
      subscriptions.handlers?.onNotice({ subscription: jobs, pubkey: stranger.toBase58(), data: Buffer.alloc(0), slot: 40 });
      await pause(30);
      assert.equal(chain.getJobsCalls.length, calls, 'nobody follows that job');
      chain.update(job, { status: 'COMPLETED' });
      subscriptions.handlers?.onNotice({ subscription: jobs, pubkey: job.toBase58(), data: Buffer.alloc(0), slot: 41 });
      await eventually(() => woken.length === 1, 'the follower to be woken');
      assert.deepEqual(woken, [owner]);
      assert.deepEqual(chain.getJobsCalls.at(-1), [job.toBase58()]);
      assert.equal(chain.getJobsOptions.at(-1)?.minContextSlot, 41, 'the read must have seen the notified slot');
      assert.equal((await watcher.job(job))?.status, 'COMPLETED', 'the follower finds the new state without a read of its own');
      assert.equal(chain.getJobsCalls.length, calls + 1);
    } finally {
      watcher.close();
    }
  });

  test('a run notice wakes the job the run names', async () => {
    const chain = new ScriptedChain();
    const job = chain.addJob(key(), 'QUEUED', project);
    const { watcher, subscriptions, woken } = subscribedWatcher(chain, 60_000);
    try {
      watcher.track(job, owner);
      await watcher.job(job);
      const run = Buffer.alloc(120);
      job.toBuffer().copy(run, OFFSETS.run.job);
      chain.update(job, { status: 'RUNNING' });
      const runAddress = key().toBase58();
      subscriptions.handlers?.onNotice({ subscription: 'runs', pubkey: runAddress, data: run, slot: 7 });
      await eventually(() => woken.length === 1, 'the follower to be woken');
      assert.equal((await watcher.job(job))?.status, 'RUNNING');
      assert.deepEqual(chain.runsAsked.at(-1), undefined, 'read before the runs subscription was in place: the run query');
      subscriptions.activateAll();
      await watcher.job(job, { maxAgeMs: 0 });
      chain.update(job, { status: 'COMPLETED' });
      subscriptions.handlers?.onNotice({
        subscription: `jobs:${project.toBase58()}`,
        pubkey: job.toBase58(),
        data: Buffer.alloc(0),
        slot: 9,
      });
      await eventually(() => woken.length === 2, 'the follower to be woken again');
      assert.deepEqual(
        chain.runsAsked.at(-1),
        [],
        'covered by the runs subscription: the job alone, no run query (it had no run when last read)',
      );
      await watcher.job(job, { maxAgeMs: 0 });
      assert.deepEqual(chain.runsAsked.at(-1), [], 'an own fresh read of a covered job: no run query either');
      await watcher.pollOnce();
      assert.equal(chain.runsAsked.at(-1), undefined, 'the poll, the safety net for lost notifications, always runs the run query');
      subscriptions.handlers?.onNotice({ subscription: 'runs', pubkey: key().toBase58(), data: Buffer.alloc(20), slot: 8 });
      await pause(30);
      assert.equal(woken.length, 2, 'a run account too short to name a job is ignored');
    } finally {
      watcher.close();
    }
  });

  test('a run notice naming a tracked node wakes the NosanaNode serving as it, with no read of its own', async () => {
    const chain = new ScriptedChain();
    const { watcher, subscriptions, woken } = subscribedWatcher(chain, 60_000);
    const node = key();
    const nodeOwner: ObjectKey = { namespace: 'gpu-owners', name: 'rig-1' };
    try {
      watcher.trackNode(node, nodeOwner);
      assert.deepEqual([...subscriptions.added.keys()], ['runs'], 'runs are the only subscription a node needs');
      const run = Buffer.alloc(120);
      key().toBuffer().copy(run, OFFSETS.run.job);
      key().toBuffer().copy(run, OFFSETS.run.node);
      subscriptions.handlers?.onNotice({ subscription: 'runs', pubkey: key().toBase58(), data: run, slot: 3 });
      assert.deepEqual(woken, [], 'another node’s run wakes nobody');
      node.toBuffer().copy(run, OFFSETS.run.node);
      subscriptions.handlers?.onNotice({ subscription: 'runs', pubkey: key().toBase58(), data: run, slot: 4 });
      assert.deepEqual(woken, [nodeOwner]);
      await pause(20);
      assert.equal(chain.getJobsCalls.length, 0, 'the job it names is not tracked here: nothing is read');
    } finally {
      watcher.close();
    }
  });

  test('a failed confirming read leaves the job uncovered and is retried until it succeeds; only then are followers woken', async () => {
    const chain = new ScriptedChain();
    const job = chain.addJob(key(), 'QUEUED', project);
    const { watcher, subscriptions, woken } = subscribedWatcher(chain, 60_000);
    try {
      watcher.track(job, owner);
      await watcher.job(job);
      subscriptions.activateAll();
      await watcher.job(job, { maxAgeMs: 0 });
      chain.failNext = Object.assign(new Error('Minimum context slot has not been reached'), { code: -32016 });
      subscriptions.handlers?.onNotice({
        subscription: `jobs:${project.toBase58()}`,
        pubkey: job.toBase58(),
        data: Buffer.alloc(0),
        slot: 90,
      });
      await eventually(
        () => chain.getJobsOptions.filter((options) => options?.minContextSlot === 90).length === 2,
        'the read to be retried',
      );
      await eventually(() => woken.length === 1, 'the follower to be woken after the retry');
    } finally {
      watcher.close();
    }
  });

  test('a notified slot no read reaches is given up after a few tries: the followers are woken to read the job anew', async () => {
    const chain = new ScriptedChain();
    const job = chain.addJob(key(), 'QUEUED', project);
    const { watcher, subscriptions, woken } = subscribedWatcher(chain, 60_000);
    const client = chain.client();
    // An RPC that never reaches the notified slot refuses every read that asks for it.
    const original = client.getJobs.bind(client);
    client.getJobs = async (addresses, options) => {
      if (options?.minContextSlot !== undefined) {
        chain.getJobsOptions.push(options);
        throw Object.assign(new Error('Minimum context slot has not been reached'), { code: -32016 });
      }
      return original(addresses, options);
    };
    const stuck = new BatchedChainJobWatcher({
      jobs: client,
      pollIntervalMs: 60_000,
      resyncIntervalMs: 60_000,
      wake: (owner) => woken.push(owner),
      subscribe: (handlers) => {
        subscriptions.handlers = handlers;
        return subscriptions;
      },
    });
    watcher.close();
    try {
      stuck.track(job, owner);
      await stuck.job(job);
      subscriptions.activateAll();
      await stuck.job(job, { maxAgeMs: 0 });
      subscriptions.handlers?.onNotice({
        subscription: `jobs:${project.toBase58()}`,
        pubkey: job.toBase58(),
        data: Buffer.alloc(0),
        slot: 2 ** 40,
      });
      await eventually(() => woken.length === 1, 'the follower to be woken once the notification is given up');
      const tries = chain.getJobsOptions.filter((options) => options?.minContextSlot === 2 ** 40).length;
      assert.ok(tries >= 2 && tries <= 6, `a few tries, then no more (${tries})`);
      const reads = chain.getJobsCalls.length;
      chain.update(job, { status: 'RUNNING' });
      assert.equal((await stuck.job(job))?.status, 'RUNNING', 'the old snapshot is not served: the job is read anew');
      assert.equal(chain.getJobsCalls.length, reads + 1);
    } finally {
      stuck.close();
    }
  });

  test('a pending change makes every read of the job ask for its slot, so a backend behind it cannot answer for it', async () => {
    const chain = new ScriptedChain();
    const job = chain.addJob(key(), 'QUEUED', project);
    const { watcher, subscriptions } = subscribedWatcher(chain, 60_000);
    try {
      watcher.track(job, owner);
      await watcher.job(job);
      subscriptions.activateAll();
      chain.failNext = new Error('RPC down for the confirming read');
      subscriptions.handlers?.onNotice({
        subscription: `jobs:${project.toBase58()}`,
        pubkey: job.toBase58(),
        data: Buffer.alloc(0),
        slot: 55,
      });
      await eventually(() => chain.getJobsOptions.some((options) => options?.minContextSlot === 55), 'the confirming read');
      await watcher.job(job, { maxAgeMs: 0 });
      assert.equal(chain.getJobsOptions.at(-1)?.minContextSlot, 55, 'an own read while the change is pending');
    } finally {
      watcher.close();
    }
  });

  test('a run heard before its job was tracked is not assumed away: a snapshot from before tracking needs the run query', async () => {
    const chain = new ScriptedChain();
    const job = chain.addJob(key(), 'QUEUED', project);
    const { watcher, subscriptions } = subscribedWatcher(chain, 60_000);
    try {
      watcher.trackNode(key(), owner);
      subscriptions.activateAll();
      await watcher.job(job); // read while untracked: any run notice about it was ignored
      watcher.track(job, owner);
      await watcher.job(job, { maxAgeMs: 0 });
      assert.equal(chain.runsAsked.at(-2), undefined, 'the snapshot predates tracking: the run query');
      await watcher.job(job, { maxAgeMs: 0 });
      assert.deepEqual(chain.runsAsked.at(-1), [], 'read since tracking under the runs subscription: no run query');
    } finally {
      watcher.close();
    }
  });

  test('an address that is no job account fails alone and stays out of the batches; the others read on', async () => {
    const chain = new ScriptedChain();
    const [good, other] = [chain.addJob(key(), 'QUEUED', project), chain.addJob(key(), 'RUNNING', project)];
    const wallet = key();
    const client = chain.client();
    const original = client.getJobs.bind(client);
    client.getJobs = async (addresses, options) => {
      if (addresses.some((address) => address.equals(wallet)))
        throw new AccountDecodeError(`${wallet.toBase58()} is not a Nosana jobs-program account`);
      return original(addresses, options);
    };
    const watcher = new BatchedChainJobWatcher({ jobs: client, pollIntervalMs: 60_000 });
    try {
      for (const address of [good, wallet, other]) watcher.track(address);
      const results = await Promise.allSettled([good, wallet, other].map((address) => watcher.job(address)));
      assert.deepEqual(
        results.map((result) => result.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      const calls = chain.getJobsCalls.length;
      await watcher.pollOnce();
      assert.deepEqual(chain.getJobsCalls.slice(calls), [[good.toBase58(), other.toBase58()]], 'the poll leaves it out');
    } finally {
      watcher.close();
    }
  });

  test('forgetting the last job of a wallet ends its subscription; the last job of all ends the runs one', async () => {
    const chain = new ScriptedChain();
    const [a, b] = [chain.addJob(key(), 'QUEUED', project), chain.addJob(key(), 'QUEUED', key())];
    const { watcher, subscriptions } = subscribedWatcher(chain, 60_000);
    try {
      watcher.track(a, owner);
      watcher.track(b, owner);
      await Promise.all([watcher.job(a), watcher.job(b)]);
      assert.equal(subscriptions.added.size, 3);
      watcher.forget(a);
      assert.equal(subscriptions.added.size, 2, 'the other wallet and the runs stay');
      assert.equal(subscriptions.added.has(`jobs:${project.toBase58()}`), false);
      assert.equal(subscriptions.added.has('runs'), true);
      watcher.forget(b);
      assert.equal(subscriptions.added.size, 0);
    } finally {
      watcher.close();
    }
  });

  test('while every subscription is in place the poll only resyncs; once they drop it resumes its pace', async () => {
    const chain = new ScriptedChain();
    const job = chain.addJob(key(), 'RUNNING', project);
    const { watcher, subscriptions } = subscribedWatcher(chain, 20);
    try {
      watcher.track(job, owner);
      await watcher.job(job);
      subscriptions.activateAll();
      await pause(60); // a cycle scheduled before the subscriptions came may still run
      const calls = chain.getJobsCalls.length;
      await pause(150);
      assert.equal(chain.getJobsCalls.length, calls, 'no poll for seven poll intervals: the next one is the resync');
      subscriptions.drop();
      await eventually(() => chain.getJobsCalls.length >= calls + 2, 'polls at the poll interval again');
    } finally {
      watcher.close();
    }
  });
});
