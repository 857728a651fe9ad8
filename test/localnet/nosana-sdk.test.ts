// Nosana's own SDK (@nosana/sdk, unmodified) against the localnet over HTTP: it loads the jobs
// program's IDL from the chain, as it does on devnet, and its reads return what the localnet holds
// as the project reads it. The instructions it builds for callers who send them their own way
// (`instructionOnly`) land when the project's sender sends them; the SDK sending its own
// transactions is nosana-sdk-transactions.test.ts.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Client } from '@nosana/sdk';
import { PublicKey } from '@solana/web3.js';
import type { Keypair, TransactionInstruction } from '@solana/web3.js';
import type { JobView } from '../../src/chain/jobs-client.ts';
import type { SolanaJobsClient } from '../../src/chain/solana-jobs-client.ts';
import { TransactionSender } from '../../src/chain/transaction-sender.ts';
import { bytes32ToCid } from '../../src/ipfs/cid.ts';
import { comparable } from './comparable.ts';
import { sdkClient } from './nosana-sdk-client.ts';
import { DEFINITION_CID_BYTES, useLocalnet } from './support.ts';

const TIMEOUT = 600n;
const RESULT_BYTES = Uint8Array.from({ length: 32 }, (_, index) => 255 - index);

const getLocalnet = useLocalnet({ chain: { slotMs: 50 } });

/**
 * What the SDK's `jobs.get` should answer for a job, from the project's read: CIDs instead of
 * digests, the derived state name, and for a running job the run's node and start time.
 */
function sdkJobOf(view: JobView): Record<string, unknown> {
  const { account, run } = view;
  return {
    ipfsJob: bytes32ToCid(account.ipfsJob),
    ipfsResult: bytes32ToCid(account.ipfsResult),
    market: account.market.toBase58(),
    node: (run?.account.node ?? account.node).toBase58(),
    payer: account.payer.toBase58(),
    price: account.price,
    project: account.project.toBase58(),
    state: view.status,
    timeEnd: Number(account.timeEnd),
    timeStart: Number(run?.account.time ?? account.timeStart),
    timeout: account.timeout,
  };
}

async function postJob(client: SolanaJobsClient, poster: Keypair, market: PublicKey): Promise<PublicKey> {
  const pending = await client.preparePost({ wallet: poster, market, ipfsJob: DEFINITION_CID_BYTES, timeoutSeconds: TIMEOUT });
  await client.broadcast(pending);
  for (;;) {
    const resolution = await client.resolvePendingPost(pending);
    if (resolution.outcome === 'landed') return new PublicKey(pending.jobAddress);
    assert.equal(resolution.outcome, 'pending', `the post should land, got ${JSON.stringify(resolution)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function projectJob(client: SolanaJobsClient, job: PublicKey): Promise<JobView> {
  const view = await client.getJob(job);
  assert.ok(view, `job ${job.toBase58()} exists`);
  return view;
}

describe("Nosana's SDK against the localnet", () => {
  let sdk: Client;
  let client: SolanaJobsClient;
  /** One job in each state the SDK names: finished, running and queued. */
  let jobs: { completed: PublicKey; running: PublicKey; queued: PublicKey };

  before(async () => {
    const localnet = getLocalnet();
    sdk = sdkClient(localnet);
    client = localnet.jobsClient();
    await client.ensureStake(localnet.node);
    const completed = await postJob(client, localnet.poster, localnet.market);
    await client.work(localnet.node, localnet.market);
    await client.finish(localnet.node, completed, RESULT_BYTES);
    const running = await postJob(client, localnet.poster, localnet.market);
    await client.work(localnet.node, localnet.market);
    const queued = await postJob(client, localnet.poster, localnet.market);
    jobs = { completed, running, queued };
  });

  test('the SDK offers every jobs method it calls that the localnet runs', async () => {
    await sdk.jobs.loadNosanaJobs();
    const methods = sdk.jobs.jobs?.methods as Record<string, unknown> | undefined;
    assert.ok(methods);
    for (const name of ['list', 'assign', 'delist', 'extend', 'end', 'work', 'stop', 'finish', 'complete', 'quit', 'open', 'update']) {
      assert.equal(typeof methods[name], 'function', `methods.${name}`);
    }
  });

  test('jobs.getMarket returns the market as the project reads it', async () => {
    const localnet = getLocalnet();
    const ours = await client.getMarket(localnet.market);
    assert.ok(ours);
    const { address, ...fields } = (await sdk.jobs.getMarket(localnet.market)) as unknown as Record<string, unknown>;
    assert.equal(comparable(address), localnet.market.toBase58());
    assert.deepEqual(comparable(fields), comparable(ours.account));
  });

  test('jobs.allMarkets returns every market the localnet holds', async () => {
    const ours = await client.getMarkets();
    const theirs = (await sdk.jobs.allMarkets()) as Record<string, unknown>[];
    const byAddress = (markets: { address: unknown }[]) =>
      [...markets].sort((a, b) => String(comparable(a.address)).localeCompare(String(comparable(b.address))));
    assert.deepEqual(
      comparable(byAddress(theirs as { address: unknown }[])),
      comparable(byAddress(ours.map((market) => ({ ...market.account, address: market.address })))),
    );
    assert.equal(theirs.length, 1);
  });

  test('jobs.get returns a completed, a running and a queued job as the project reads them', async () => {
    const expectedStates = { completed: 'COMPLETED', running: 'RUNNING', queued: 'QUEUED' } as const;
    for (const [kind, job] of Object.entries(jobs) as [keyof typeof jobs, PublicKey][]) {
      const ours = await projectJob(client, job);
      assert.equal(ours.status, expectedStates[kind]);
      assert.deepEqual(comparable(await sdk.jobs.get(job)), comparable(sdkJobOf(ours)), `${kind} job`);
    }
  });

  test('jobs.getMultiple returns the jobs in the order asked', async () => {
    const order = [jobs.queued, jobs.completed, jobs.running];
    const expected = await Promise.all(order.map(async (job) => sdkJobOf(await projectJob(client, job))));
    assert.deepEqual(comparable(await sdk.jobs.getMultiple(order)), comparable(expected));
  });

  test('jobs.all lists every job account with its stored state and times', async () => {
    const ours = await client.findJobsByDefinition(getLocalnet().poster.publicKey, DEFINITION_CID_BYTES);
    const expected = ours
      .map((view) => ({
        pubkey: view.address.toBase58(),
        state: view.account.state,
        timeStart: Number(view.account.timeStart),
        timeEnd: Number(view.account.timeEnd),
      }))
      .sort((a, b) => a.pubkey.localeCompare(b.pubkey));
    const theirs = (comparable(await sdk.jobs.all()) as { pubkey: string }[]).sort((a, b) => a.pubkey.localeCompare(b.pubkey));
    assert.equal(theirs.length, 3);
    assert.deepEqual(theirs, expected);
  });

  describe('instructions the SDK builds from the fetched IDL land on the localnet', () => {
    async function send(what: string, instructions: TransactionInstruction[]): Promise<void> {
      const { poster } = getLocalnet();
      await new TransactionSender(getLocalnet().connection()).execute(what, instructions, poster.publicKey, [poster]);
    }

    test('extend adds seconds to a queued job', async () => {
      const before = await projectJob(client, jobs.queued);
      const instruction = (await sdk.jobs.extend(jobs.queued, 60, true)) as TransactionInstruction;
      await send('extend', [instruction]);
      assert.equal((await projectJob(client, jobs.queued)).account.timeout, before.account.timeout + 60n);
    });

    test('end stops the running job', async () => {
      const instructions = (await sdk.jobs.end(jobs.running, true)) as TransactionInstruction[];
      await send('end', instructions);
      const ended = await projectJob(client, jobs.running);
      assert.equal(ended.status, 'COMPLETED');
      assert.equal(ended.account.node.toBase58(), getLocalnet().node.publicKey.toBase58());
    });

    test('delist takes the queued job off the market', async () => {
      const instruction = (await sdk.jobs.delist(jobs.queued, true)) as TransactionInstruction;
      await send('delist', [instruction]);
      assert.equal(await client.getJob(jobs.queued), undefined);
      const market = await client.getMarket(getLocalnet().market);
      assert.equal(
        market?.account.queue.some((entry) => entry.equals(jobs.queued)),
        false,
      );
    });
  });
});
