// The jobs program's lifecycle on the localnet, driven over HTTP through the production adapter
// (SolanaJobsClient), with the ledger checked to the base unit after every step.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair, PublicKey } from '@solana/web3.js';
import { getJobAccountDecoder, getMarketAccountDecoder, getRunAccountDecoder } from '@nosana/jobs-program';
import { nosTokenAccount } from '../../src/chain/addresses.ts';
import { leaveQueueInstructions, openMarketInstructions } from '../../src/chain/operations.ts';
import { JOB_TYPE_DISABLED, MARKET_QUEUE_CAPACITY, QUEUE_TYPE, decodeAccount, encodeAccount } from '../../src/chain/accounts.ts';
import { jobCost, jobDeposit, LAMPORTS_PER_SOL } from '../../src/chain/money.ts';
import type { SolanaJobsClient } from '../../src/chain/solana-jobs-client.ts';
import { TransactionFailedError, TransactionSender } from '../../src/chain/transaction-sender.ts';
import { bytes32ToCid, cidToBytes32 } from '../../src/ipfs/cid.ts';
import { PinataClient } from '../../src/ipfs/pinata.ts';
import { LOCALNET } from '../../src/localnet/localnet.ts';
import type { Localnet } from '../../src/localnet/localnet.ts';
import { DEFINITION_CID_BYTES, tokenBalance, totalNos, useLocalnet } from './support.ts';

const PRICE = 100n;
const TIMEOUT = 600n;
const getLocalnet = useLocalnet({ market: { price: PRICE, timeout: 3_600n, jobExpiration: 60n }, chain: { slotMs: 50 } });

interface Actors {
  localnet: Localnet;
  client: SolanaJobsClient;
  poster: Keypair;
  node: Keypair;
}

/** A fresh node key funded with SOL (and its stake), so tests do not share queue positions. */
async function freshNode(localnet: Localnet, client: SolanaJobsClient): Promise<Keypair> {
  const node = Keypair.generate();
  localnet.chain.ledger.airdrop(node.publicKey, 2n * LAMPORTS_PER_SOL);
  await client.ensureStake(node);
  return node;
}

async function actors(): Promise<Actors> {
  const localnet = getLocalnet();
  const client = localnet.jobsClient();
  return { localnet, client, poster: localnet.poster, node: await freshNode(localnet, client) };
}

async function post(client: SolanaJobsClient, poster: Keypair, market: PublicKey, timeout = TIMEOUT): Promise<PublicKey> {
  const pending = await client.preparePost({ wallet: poster, market, ipfsJob: DEFINITION_CID_BYTES, timeoutSeconds: timeout });
  await client.broadcast(pending);
  for (;;) {
    const resolution = await client.resolvePendingPost(pending);
    if (resolution.outcome === 'landed') return new PublicKey(pending.jobAddress);
    assert.equal(resolution.outcome, 'pending', `the post should land, got ${JSON.stringify(resolution)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Leaves the market's queue empty of nodes, so a post queues instead of matching at once. */
async function drainNodeQueue(localnet: Localnet, client: SolanaJobsClient): Promise<void> {
  const market = await client.getMarket(localnet.market);
  if (market?.account.queueType !== QUEUE_TYPE.node) return;
  // The market's authority may take any node out of the queue.
  const sender = new TransactionSender(localnet.connection());
  for (const node of market.account.queue) {
    await sender.execute('stop', leaveQueueInstructions(LOCALNET, localnet.market, node, localnet.marketAuthority.publicKey),
      localnet.marketAuthority.publicKey, [localnet.marketAuthority]);
  }
}

describe('jobs lifecycle on the localnet', () => {
  test('post → QUEUED with the deposit in the vault; work → RUNNING; finish → COMPLETED, node paid price × elapsed', async () => {
    const { localnet, client, poster, node } = await actors();
    const connection = localnet.connection();
    const market = (await client.getMarket(localnet.market))!;
    const totalBefore = await totalNos(connection);
    const posterBefore = await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey));
    const vaultBefore = await tokenBalance(connection, market.account.vault);

    const job = await post(client, poster, localnet.market);
    const queued = await client.getJob(job);
    assert.equal(queued?.status, 'QUEUED');
    assert.equal(queued.account.price, PRICE);
    assert.ok(queued.account.project.equals(poster.publicKey));
    assert.equal(await tokenBalance(connection, market.account.vault), vaultBefore + jobDeposit(PRICE, TIMEOUT));
    assert.equal(await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey)), posterBefore - jobDeposit(PRICE, TIMEOUT));
    const queue = (await client.getMarket(localnet.market))!.account;
    assert.equal(queue.queueType, QUEUE_TYPE.job);
    assert.ok(queue.queue.some((entry) => entry.equals(job)));

    const { run } = await client.work(node, localnet.market);
    const running = await client.getJob(job);
    assert.equal(running?.status, 'RUNNING');
    assert.ok(running.run?.address.equals(run));
    assert.ok(running.run?.account.node.equals(node.publicKey));

    localnet.chain.clock.advance(42);
    const result = await new PinataClient({ jwt: 'localnet', apiUrl: localnet.ipfs.apiUrl }).pinJson({ status: 'success', opStates: [] });
    await client.finish(node, job, cidToBytes32(result));

    const done = await client.getJob(job);
    assert.equal(done?.status, 'COMPLETED');
    assert.equal(bytes32ToCid(done.account.ipfsResult), result);
    assert.ok(done.account.node.equals(node.publicKey));
    const elapsed = done.account.timeEnd - done.account.timeStart;
    assert.ok(elapsed >= 42n, `elapsed ${elapsed}s should include the 42 s the clock moved`);
    const cost = jobCost(PRICE, elapsed, TIMEOUT);
    assert.equal(await tokenBalance(connection, nosTokenAccount(LOCALNET, node.publicKey)), cost);
    assert.equal(await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey)), posterBefore - cost);
    assert.equal(await tokenBalance(connection, market.account.vault), vaultBefore);
    assert.equal(await totalNos(connection), totalBefore, 'NOS is conserved to the base unit');
    assert.deepEqual(await client.getRunsByNode(node.publicKey), [], 'finish closes the run account');
  });

  test('a post while a node waits in the queue runs at once, in the same transaction', async () => {
    const { localnet, client, poster, node } = await actors();
    await client.work(node, localnet.market);
    const market = (await client.getMarket(localnet.market))!.account;
    assert.equal(market.queueType, QUEUE_TYPE.node);
    const job = await post(client, poster, localnet.market);
    const view = await client.getJob(job);
    assert.equal(view?.status, 'RUNNING');
    assert.ok(view.run?.account.node.equals(node.publicKey));
    assert.equal((await client.getMarket(localnet.market))!.account.queueType, QUEUE_TYPE.empty);
  });

  test('delist refunds the whole deposit and closes the job', async () => {
    const { localnet, client, poster } = await actors();
    await drainNodeQueue(localnet, client);
    const connection = localnet.connection();
    const before = await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey));
    const job = await post(client, poster, localnet.market);
    await client.delist(poster, job);
    assert.equal(await client.getJob(job), undefined);
    assert.equal(await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey)), before);
  });

  test('end pays the node for the elapsed time; complete then adds the result', async () => {
    const { localnet, client, poster, node } = await actors();
    await drainNodeQueue(localnet, client);
    const connection = localnet.connection();
    const totalBefore = await totalNos(connection);
    const before = await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey));
    const job = await post(client, poster, localnet.market);
    await client.work(node, localnet.market);
    localnet.chain.clock.advance(10);
    await client.end(poster, job);
    const ended = await client.getJob(job);
    assert.equal(ended?.status, 'COMPLETED');
    assert.ok(ended.account.ipfsResult.every((byte) => byte === 0), 'no result until the node completes');
    const cost = jobCost(PRICE, ended.account.timeEnd - ended.account.timeStart, TIMEOUT);
    assert.ok(cost >= PRICE * 10n);
    assert.equal(await tokenBalance(connection, nosTokenAccount(LOCALNET, node.publicKey)), cost);
    assert.equal(await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey)), before - cost);

    const result = cidToBytes32('QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH');
    await client.complete(node, job, result);
    assert.deepEqual((await client.getJob(job))?.account.ipfsResult, result);
    await assert.rejects(client.complete(node, job, result), (error: unknown) =>
      error instanceof TransactionFailedError && error.programError?.name === 'JobResultsAlreadySet');
    assert.equal(await totalNos(connection), totalBefore);
  });

  test('extend charges price × the added seconds, for a queued job', async () => {
    const { localnet, client, poster } = await actors();
    await drainNodeQueue(localnet, client);
    const connection = localnet.connection();
    const job = await post(client, poster, localnet.market);
    const before = await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey));
    await client.extend(poster, job, TIMEOUT + 300n);
    assert.equal((await client.getJob(job))?.account.timeout, TIMEOUT + 300n);
    assert.equal(await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey)), before - PRICE * 300n);
    await assert.rejects(client.extend(poster, job, TIMEOUT), (error: unknown) =>
      error instanceof TransactionFailedError && error.programError?.name === 'JobTimeoutNotGreater');
    await client.delist(poster, job);
    assert.equal(await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey)), before + jobDeposit(PRICE, TIMEOUT));
  });

  test('quit → STOPPED; recover refunds the whole deposit; the node gets nothing', async () => {
    const { localnet, client, poster, node } = await actors();
    await drainNodeQueue(localnet, client);
    const connection = localnet.connection();
    const before = await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey));
    const job = await post(client, poster, localnet.market);
    await client.work(node, localnet.market);
    localnet.chain.clock.advance(5);
    await client.quit(node, job);
    assert.equal((await client.getJob(job))?.status, 'STOPPED');
    await client.recover(poster, job);
    assert.equal(await client.getJob(job), undefined);
    assert.equal(await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey)), before);
    assert.equal(await tokenBalance(connection, nosTokenAccount(LOCALNET, node.publicKey)), 0n);
  });

  test('clean fails with JobNotExpired before the market expiration and succeeds after it', async () => {
    const { localnet, client, poster, node } = await actors();
    await drainNodeQueue(localnet, client);
    const job = await post(client, poster, localnet.market);
    await client.work(node, localnet.market);
    await client.finish(node, job, DEFINITION_CID_BYTES);
    await assert.rejects(client.clean(poster, job), (error: unknown) =>
      error instanceof TransactionFailedError && error.programError?.name === 'JobNotExpired');
    localnet.chain.clock.advance(61);
    await client.clean(poster, job);
    assert.equal(await client.getJob(job), undefined);
  });

  test('errors carry the program\'s names: delisting a running job, finishing someone else\'s run', async () => {
    const { localnet, client, poster, node } = await actors();
    await drainNodeQueue(localnet, client);
    const job = await post(client, poster, localnet.market);
    await client.work(node, localnet.market);
    // The job left the queue when the node took it, and the queue is now empty.
    await assert.rejects(client.delist(poster, job), (error: unknown) =>
      error instanceof TransactionFailedError && error.programError?.name === 'MarketInWrongState');
    const stranger = await freshNode(localnet, client);
    await assert.rejects(client.finish(stranger, job, DEFINITION_CID_BYTES), /has no run for node/);
    await client.end(poster, job);
  });

  test('a disabled market (job type 255) takes the deposit without queueing the job, and it cannot be delisted', async () => {
    const { localnet, client, poster } = await actors();
    const connection = localnet.connection();
    const market = Keypair.generate();
    await new TransactionSender(connection).execute('open', openMarketInstructions({
      network: LOCALNET, market: market.publicKey, authority: localnet.marketAuthority.publicKey,
      jobPrice: PRICE, jobTimeout: 3_600n, jobExpiration: 60n, jobType: JOB_TYPE_DISABLED,
    }), localnet.marketAuthority.publicKey, [localnet.marketAuthority, market]);
    const before = await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey));
    const job = await post(client, poster, market.publicKey);
    assert.equal(await tokenBalance(connection, nosTokenAccount(LOCALNET, poster.publicKey)), before - jobDeposit(PRICE, TIMEOUT));
    const view = (await client.getMarket(market.publicKey))!.account;
    assert.equal(view.queue.length, 0, 'the job is not in the queue');
    await assert.rejects(client.delist(poster, job), (error: unknown) =>
      error instanceof TransactionFailedError && error.programError?.name === 'MarketInWrongState');
  });

  test('a full market queue refuses another job with AccountDidNotSerialize', async () => {
    const { localnet, client, poster } = await actors();
    await drainNodeQueue(localnet, client);
    const market = (await client.getMarket(localnet.market))!;
    // Fill the queue to one short of its capacity directly in the ledger, instead of 313 posts.
    const fillers = Array.from({ length: MARKET_QUEUE_CAPACITY - 1 - market.account.queue.length }, () => Keypair.generate().publicKey);
    const full = { ...market.account, queueType: QUEUE_TYPE.job, queue: [...market.account.queue, ...fillers] };
    const stored = localnet.chain.ledger.get(localnet.market)!;
    localnet.chain.ledger.put(localnet.market, { ...stored, data: encodeAccount('MarketAccount', full) });
    try {
      const last = await post(client, poster, localnet.market);
      assert.equal((await client.getMarket(localnet.market))!.account.queue.length, MARKET_QUEUE_CAPACITY);
      await assert.rejects(
        client.preparePost({ wallet: poster, market: localnet.market, ipfsJob: DEFINITION_CID_BYTES, timeoutSeconds: TIMEOUT }),
        (error: unknown) => error instanceof TransactionFailedError && error.programError?.name === 'AccountDidNotSerialize',
      );
      await client.delist(poster, last);
    } finally {
      const current = (await client.getMarket(localnet.market))!.account;
      const remaining = current.queue.filter((entry) => !fillers.some((filler) => filler.equals(entry)));
      localnet.chain.ledger.put(localnet.market, { ...stored, data: encodeAccount('MarketAccount', { ...current, queue: remaining, queueType: remaining.length === 0 ? QUEUE_TYPE.empty : current.queueType }) });
    }
  });

  test('Nosana\'s own generated client decodes the accounts the localnet writes', async () => {
    const { localnet, client, poster, node } = await actors();
    await drainNodeQueue(localnet, client);
    const connection = localnet.connection();
    const job = await post(client, poster, localnet.market);
    const { run } = await client.work(node, localnet.market);
    const [jobInfo, runInfo, marketInfo] = await connection.getMultipleAccountsInfo([job, run, localnet.market]);
    const theirsJob = getJobAccountDecoder().decode(jobInfo!.data);
    const oursJob = decodeAccount('JobAccount', jobInfo!.data);
    assert.equal(theirsJob.project, oursJob.project.toBase58());
    assert.equal(theirsJob.market, localnet.market.toBase58());
    assert.equal(theirsJob.price, oursJob.price);
    assert.equal(theirsJob.timeout, oursJob.timeout);
    assert.equal(theirsJob.state, 0);
    assert.deepEqual([...theirsJob.ipfsJob], [...DEFINITION_CID_BYTES]);
    const theirsRun = getRunAccountDecoder().decode(runInfo!.data);
    assert.equal(theirsRun.job, job.toBase58());
    assert.equal(theirsRun.node, node.publicKey.toBase58());
    const theirsMarket = getMarketAccountDecoder().decode(marketInfo!.data);
    assert.equal(theirsMarket.jobPrice, PRICE);
    assert.equal(theirsMarket.authority, localnet.marketAuthority.publicKey.toBase58());
    assert.equal(jobInfo!.data.length, 240);
    assert.equal(runInfo!.data.length, 120);
    await client.end(poster, job);
  });
});

