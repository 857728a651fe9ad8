// SolanaJobsClient.getJobsWithRuns over HTTP: jobs and the runs a subscriber heard of, in one
// getMultipleAccounts, must read exactly as getJobs (which queries the program's runs) reads them,
// whatever stale or foreign run addresses come along; and it honours minContextSlot.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair, PublicKey } from '@solana/web3.js';
import type { JobView } from '../../src/chain/jobs-client.ts';
import { LAMPORTS_PER_SOL } from '../../src/chain/money.ts';
import type { SolanaJobsClient } from '../../src/chain/solana-jobs-client.ts';
import type { Localnet } from '../../src/localnet/localnet.ts';
import { DEFINITION_CID_BYTES, useLocalnet } from './support.ts';

const RESULT = Uint8Array.from({ length: 32 }, (_, index) => 100 + index);
const getLocalnet = useLocalnet({ chain: { slotMs: 50 } });

async function post(client: SolanaJobsClient, localnet: Localnet): Promise<PublicKey> {
  const pending = await client.preparePost({
    wallet: localnet.poster,
    market: localnet.market,
    ipfsJob: DEFINITION_CID_BYTES,
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
