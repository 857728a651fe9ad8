// The batched chain poller, against a scripted JobsClient that counts its calls: reads close
// together become one batch, fresh snapshots cost nothing, and a poll covers every tracked job in
// one batch plus one read per distinct market of queued jobs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair, PublicKey } from '@solana/web3.js';
import type { JobAccount } from '../../../src/chain/accounts.ts';
import type { JobStatus, JobView, JobsClient, MarketView } from '../../../src/chain/jobs-client.ts';
import { BatchedChainJobWatcher } from '../../../src/controllers/chain-watcher.ts';

const key = (): PublicKey => Keypair.generate().publicKey;

/** A chain the test edits: jobs and markets by address; every read is logged. */
class ScriptedChain {
  readonly jobs = new Map<string, JobView>();
  readonly markets = new Map<string, MarketView>();
  readonly getJobsCalls: string[][] = [];
  readonly getMarketCalls: string[] = [];
  failNext: Error | undefined;

  client(): JobsClient {
    const client: Pick<JobsClient, 'getJobs' | 'getMarket'> = {
      getJobs: async (addresses) => {
        this.getJobsCalls.push(addresses.map((address) => address.toBase58()));
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

  addJob(market: PublicKey, status: JobStatus = 'QUEUED'): PublicKey {
    const address = key();
    const account: JobAccount = {
      ipfsJob: new Uint8Array(32),
      ipfsResult: new Uint8Array(32),
      market,
      node: PublicKey.default,
      payer: PublicKey.default,
      price: 100n,
      project: PublicKey.default,
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
