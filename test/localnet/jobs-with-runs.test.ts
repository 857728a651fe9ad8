// SolanaJobsClient's batched job reads over HTTP. getJobsWithRuns: jobs and the runs a subscriber
// heard of, in one getMultipleAccounts, must read exactly as getJobs (which queries the program's
// runs) reads them, whatever stale or foreign run addresses come along; and it honours
// minContextSlot. Posting many: the priority fees are asked once for posts built close together,
// the blockhash for each, and every post lands as its own job.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair, PublicKey } from '@solana/web3.js';
import type { JobView } from '../../src/chain/jobs-client.ts';
import { LAMPORTS_PER_SOL } from '../../src/chain/money.ts';
import { SolanaJobsClient } from '../../src/chain/solana-jobs-client.ts';
import { createConnection } from '../../src/chain/rpc-transport.ts';
import { LOCALNET, type Localnet } from '../../src/localnet/localnet.ts';
import { DEFINITION_CID_BYTES, useLocalnet } from './support.ts';

const RESULT = Uint8Array.from({ length: 32 }, (_, index) => 100 + index);
const getLocalnet = useLocalnet({ chain: { slotMs: 50 } });

async function post(
  client: SolanaJobsClient,
  localnet: Localnet,
  ipfsJob = DEFINITION_CID_BYTES,
  wallet = localnet.poster,
): Promise<PublicKey> {
  const pending = await client.preparePost({
    wallet,
    market: localnet.market,
    ipfsJob,
    timeoutSeconds: 600n,
  });
  await client.broadcast(pending);
  for (;;) {
    const resolution = await client.resolvePendingPost(pending);
    if (resolution.outcome === 'landed') return new PublicKey(pending.jobAddress);
    assert.equal(resolution.outcome, 'pending', JSON.stringify(resolution));
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function freshNode(localnet: Localnet, client: SolanaJobsClient): Promise<Keypair> {
  const node = Keypair.generate();
  localnet.chain.ledger.airdrop(node.publicKey, 2n * LAMPORTS_PER_SOL);
  await client.ensureStake(node);
  return node;
}

/** What a reader acts on: the state and the run, nothing decoded differently. */
function summary(views: Map<string, JobView | undefined>): Record<string, unknown> {
  return Object.fromEntries(
    [...views].map(([id, view]) => [id, view === undefined ? null : { status: view.status, run: view.run?.address.toBase58() ?? null }]),
  );
}

describe('getJobsWithRuns on the localnet', () => {
  test('a queued, a running, a finished and a delisted job with the runs heard of read as getJobs reads them', async () => {
    const localnet = getLocalnet();
    const client = localnet.jobsClient();
    const finishedNode = await freshNode(localnet, client);
    const runningNode = await freshNode(localnet, client);
    const finished = await post(client, localnet);
    const { run: closedRun } = await client.work(finishedNode, localnet.market);
    await client.finish(finishedNode, finished, RESULT);
    const running = await post(client, localnet);
    const { run } = await client.work(runningNode, localnet.market);
    const queued = await post(client, localnet);
    const delisted = await post(client, localnet);
    await client.delist(localnet.poster, delisted);
    const jobs = [queued, running, finished, delisted];

    const expected = summary(await client.getJobs(jobs));
    assert.equal((expected[running.toBase58()] as { status: string }).status, 'RUNNING', 'the fixture has a running job');
    // The run heard of, a run closed by finish, an address that never held anything, and a job account posing as a run.
    const heard = [run, closedRun, Keypair.generate().publicKey, queued];
    assert.deepEqual(summary(await client.getJobsWithRuns(jobs, heard)), expected);
    assert.deepEqual(
      summary(await client.getJobsWithRuns(jobs, [closedRun])),
      { ...expected, [running.toBase58()]: { status: 'QUEUED', run: null } },
      'without its run the running job reads as queued: the caller must pass every run heard of',
    );
  });

  test('a minContextSlot the RPC has not reached is refused, not answered from an older slot', async () => {
    const localnet = getLocalnet();
    const client = localnet.jobsClient();
    const job = await post(client, localnet);
    const slot = await localnet.connection().getSlot('confirmed');
    await assert.rejects(client.getJobsWithRuns([job], [], { minContextSlot: slot + 10_000 }), /-32016|[Mm]inimum context slot/);
    assert.equal((await client.getJobsWithRuns([job], [], { minContextSlot: slot })).get(job.toBase58())?.status, 'QUEUED');
  });
});

describe('posting many on the localnet', () => {
  test('posts built one after another share the fee question, each with a blockhash of its own, and each lands as its own job', async () => {
    const localnet = getLocalnet();
    const methods: string[] = [];
    const connection = createConnection(localnet.chain.url, { onRequest: (event) => methods.push(event.method) });
    const client = new SolanaJobsClient({ connection, network: LOCALNET });
    const pending = [];
    for (let index = 0; index < 3; index += 1)
      pending.push(
        await client.preparePost({
          wallet: localnet.poster,
          market: localnet.market,
          ipfsJob: Uint8Array.from({ length: 32 }, () => 200 + index),
          timeoutSeconds: 600n,
        }),
      );
    const jobs: PublicKey[] = [];
    for (const record of pending) {
      await client.broadcast(record);
      for (let resolution = await client.resolvePendingPost(record); resolution.outcome !== 'landed';) {
        assert.equal(resolution.outcome, 'pending', JSON.stringify(resolution));
        await new Promise((resolve) => setTimeout(resolve, 25));
        resolution = await client.resolvePendingPost(record);
      }
      jobs.push(new PublicKey(record.jobAddress));
    }
    const count = (method: string): number => methods.filter((name) => name === method).length;
    assert.equal(count('getRecentPrioritizationFees'), 1, 'the new job and run keys are left out of the question, so it stays the same');
    assert.equal(count('getLatestBlockhash'), 3, 'a blockhash is never reused from an earlier build');
    assert.equal(count('simulateTransaction'), 3, 'each post is still simulated before it is signed');
    const views = await client.getJobs(jobs);
    assert.deepEqual(
      [...views.values()].map((view) => view?.status),
      ['QUEUED', 'QUEUED', 'QUEUED'],
    );
  });
});
