// What polling costs, measured against the localnet over HTTP with the RPC transport's request
// observer: 50 followed jobs (some queued, some running) refreshed by the batched watcher, versus
// reading each job on its own. The numbers are reported as test diagnostics.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PublicKey } from '@solana/web3.js';
import { createConnection } from '../../../src/chain/rpc-transport.ts';
import { SolanaJobsClient } from '../../../src/chain/solana-jobs-client.ts';
import { BatchedChainJobWatcher } from '../../../src/controllers/chain-watcher.ts';
import { LOCALNET } from '../../../src/localnet/localnet.ts';
import { TestNode, openTestMarket, postDirectly } from '../../harness/nosana-ledger.ts';
import { useLocalnet } from '../support.ts';
import { DEFINITION } from './nosana-job-mirror-support.ts';
import { PinataClient } from '../../../src/ipfs/pinata.ts';

const JOBS = 50;
const RUNNING = 5;
const getLocalnet = useLocalnet({ chain: { slotMs: 50 } });

/** A client whose every HTTP request to the RPC is counted by method. */
function countingClient(url: string): { client: SolanaJobsClient; requests: Map<string, number>; total(): number; reset(): void } {
  const requests = new Map<string, number>();
  const connection = createConnection(url, { onRequest: (event) => requests.set(event.method, (requests.get(event.method) ?? 0) + 1) });
  return {
    client: new SolanaJobsClient({ connection, network: LOCALNET }),
    requests,
    total: () => [...requests.values()].reduce((sum, count) => sum + count, 0),
    reset: () => requests.clear(),
  };
}

describe('polling cost', () => {
  test(`${JOBS} jobs: one watcher poll is a few requests; one read per job is at least one request each`, async (t) => {
    const localnet = getLocalnet();
    const market = await openTestMarket(localnet);
    const cid = await new PinataClient({ jwt: 'localnet', apiUrl: localnet.ipfs.apiUrl }).pinJson(DEFINITION);
    const jobs: PublicKey[] = [];
    for (let start = 0; start < JOBS; start += 10) {
      jobs.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(10, JOBS - start) }, () => postDirectly(localnet, localnet.poster, market, cid, 600n)),
        )),
      );
    }
    for (let index = 0; index < RUNNING; index += 1) await (await TestNode.join(localnet)).work(market);

    const counted = countingClient(localnet.chain.url);
    const watcher = new BatchedChainJobWatcher({ jobs: counted.client, pollIntervalMs: 60_000 });
    t.after(() => watcher.close());
    for (const job of jobs) watcher.track(job);
    await watcher.pollOnce();
    const perPoll = counted.total();
    const pollMethods = Object.fromEntries(counted.requests);

    // The reconciles that follow read the poll's snapshots: jobs and the market of the queued ones.
    counted.reset();
    const views = await Promise.all(jobs.map((job) => watcher.job(job)));
    await watcher.market(market);
    const reconcileReads = counted.total();
    assert.equal(views.filter((view) => view?.status === 'RUNNING').length, RUNNING);
    assert.equal(views.filter((view) => view?.status === 'QUEUED').length, JOBS - RUNNING);

    counted.reset();
    for (const job of jobs) await counted.client.getJob(job);
    const perJob = counted.total();

    t.diagnostic(
      `watcher poll of ${JOBS} jobs: ${perPoll} RPC requests ${JSON.stringify(pollMethods)}; reconcile reads after it: ${reconcileReads}`,
    );
    t.diagnostic(`one getJob per job: ${perJob} RPC requests ${JSON.stringify(Object.fromEntries(counted.requests))}`);
    // getMultipleAccounts by 100, one run-account query, one read per distinct market of queued jobs.
    assert.ok(perPoll <= Math.ceil(JOBS / 100) + 1 + 1, `a poll took ${perPoll} requests`);
    assert.equal(reconcileReads, 0);
    assert.ok(perJob >= JOBS, `reading each job took ${perJob} requests`);
  });
});
