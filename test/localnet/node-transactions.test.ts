// Exactly-once node transactions on the localnet, through the production adapter over HTTP: a node
// joins the market, takes a job, and ends it with a record prepared and persisted before anything
// is sent. The same bytes sent twice finish once; a record never sent expires and only then may
// be replaced; a quit releases the job unpaid; a complete follows a poster's end.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair, PublicKey } from '@solana/web3.js';
import { nosTokenAccount } from '../../src/chain/addresses.ts';
import type { NodeTransactionResolution } from '../../src/chain/jobs-client.ts';
import { jobCost, jobDeposit, LAMPORTS_PER_SOL } from '../../src/chain/money.ts';
import { parseNodeTransactionRecord } from '../../src/chain/node-transaction-record.ts';
import type { NodeTransactionRecord } from '../../src/chain/node-transaction-record.ts';
import { decideNodeTransactionStep, observeJob } from '../../src/chain/node-transaction-step.ts';
import type { SolanaJobsClient } from '../../src/chain/solana-jobs-client.ts';
import { TransactionFailedError } from '../../src/chain/transaction-sender.ts';
import { bytes32ToCid } from '../../src/ipfs/cid.ts';
import { LOCALNET } from '../../src/localnet/localnet.ts';
import type { Localnet } from '../../src/localnet/localnet.ts';
import { DEFINITION_CID_BYTES, landed, tokenBalance, totalNos, useLocalnet } from './support.ts';

const PRICE = 100n;
const TIMEOUT = 600n;
// Short slots and blockhash lifetime, so moving the clock a few seconds expires a blockhash.
const CHAIN = { slotMs: 50, blockhashLifetime: 40, finalizeAfterSlots: 2 };
const RESULT = 'QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH';

const getLocalnet = useLocalnet({ market: { price: PRICE }, chain: CHAIN });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a node agent does with a record: keep it as JSON and read it back. */
function persisted(record: NodeTransactionRecord): NodeTransactionRecord {
  const restored = parseNodeTransactionRecord(JSON.stringify(record));
  assert.deepEqual(restored, record);
  return restored;
}

/** Resolves until the record is no longer pending. */
async function settle(client: SolanaJobsClient, record: NodeTransactionRecord): Promise<NodeTransactionResolution> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const resolution = await client.resolveNodeTransaction(record);
    if (resolution.outcome !== 'pending') return resolution;
    if (Date.now() > deadline) assert.fail(`the ${record.kind} stayed pending`);
    await sleep(40);
  }
}

/** Prepares, persists, broadcasts and waits for a node transaction to land. */
async function send(client: SolanaJobsClient, node: Keypair, request: Parameters<SolanaJobsClient['prepareNodeTransaction']>[1]) {
  const record = persisted(await client.prepareNodeTransaction(node, request));
  await client.broadcastNodeTransaction(record);
  const resolution = await settle(client, record);
  assert.equal(resolution.outcome, 'landed', `${record.kind}: ${JSON.stringify(resolution)}`);
  return record;
}

interface Scene {
  localnet: Localnet;
  client: SolanaJobsClient;
  node: Keypair;
  job: PublicKey;
  postSignature: string;
}

/** A fresh, staked node that joins the market with a recorded `work`, then gets a job posted to it. */
async function nodeRunningAJob(): Promise<Scene> {
  const localnet = getLocalnet();
  const client = localnet.jobsClient();
  const node = Keypair.generate();
  localnet.chain.ledger.airdrop(node.publicKey, 2n * LAMPORTS_PER_SOL);
  await client.ensureStake(node);

  await send(client, node, { kind: 'work', market: localnet.market });
  const market = await client.getMarket(localnet.market);
  assert.deepEqual(
    market?.account.queue.map((entry) => entry.toBase58()),
    [node.publicKey.toBase58()],
    'the node waits alone in the queue',
  );

  const post = await client.preparePost({
    wallet: localnet.poster,
    market: localnet.market,
    ipfsJob: DEFINITION_CID_BYTES,
    timeoutSeconds: TIMEOUT,
  });
  await client.broadcast(post);
  for (;;) {
    const outcome = await client.resolvePendingPost(post);
    if (outcome.outcome === 'landed') break;
    assert.equal(outcome.outcome, 'pending');
    await sleep(40);
  }
  const job = new PublicKey(post.jobAddress);
  const view = await client.getJob(job);
  assert.equal(view?.status, 'RUNNING');
  assert.ok(view.run?.account.node.equals(node.publicKey), 'the job is assigned to the waiting node');
  return { localnet, client, node, job, postSignature: post.signature };
}

describe('exactly-once node transactions on the localnet', () => {
  test('a finish prepared, persisted and broadcast twice pays the node exactly once: price × elapsed', async () => {
    const { localnet, client, node, job, postSignature } = await nodeRunningAJob();
    const connection = localnet.connection();
    const payout = nosTokenAccount(LOCALNET, node.publicKey);
    localnet.chain.clock.advance(42);
    const before = await tokenBalance(connection, payout);
    const totalBefore = await totalNos(connection);

    const record = persisted(await client.prepareNodeTransaction(node, { kind: 'finish', job, resultCid: RESULT }));
    assert.ok(record.kind === 'finish');
    assert.equal(record.payout, payout.toBase58(), "the default payout is the node's NOS account");
    await client.broadcastNodeTransaction(record);
    await client.broadcastNodeTransaction(record);
    const resolution = await settle(client, record);
    // Landed, by its signature or by its effect: which one a look finds first depends on how soon
    // the status is served, and either is proof.
    assert.equal(resolution.outcome, 'landed');

    const done = await client.getJob(job);
    assert.equal(done?.status, 'COMPLETED');
    assert.equal(bytes32ToCid(done.account.ipfsResult), RESULT);
    const elapsed = done.account.timeEnd - done.account.timeStart;
    assert.ok(elapsed >= 42n, `elapsed ${elapsed}s should include the 42 s the clock moved`);
    assert.equal(await tokenBalance(connection, payout), before + jobCost(PRICE, elapsed, TIMEOUT));
    assert.equal(await totalNos(connection), totalBefore, 'NOS is conserved to the base unit');

    // The run was created by the post and closed by exactly one finish.
    await landed(connection, record.signature);
    const runHistory = await connection.getSignaturesForAddress(new PublicKey(record.run));
    assert.deepEqual(runHistory.map((entry) => entry.signature).sort(), [postSignature, record.signature].sort());

    // A third send of the same bytes changes nothing; the record stays landed and is done.
    await client.broadcastNodeTransaction(record);
    await sleep(4 * CHAIN.slotMs);
    assert.equal(await tokenBalance(connection, payout), before + jobCost(PRICE, elapsed, TIMEOUT));
    const again = await client.resolveNodeTransaction(record);
    assert.equal(decideNodeTransactionStep(record, again, observeJob(await client.getJob(job))).step, 'done');
    await assert.rejects(client.prepareNodeTransaction(node, { kind: 'finish', job, resultCid: RESULT }), /no open run/);
  });

  test('a send that waits for the landing returns once the finish is settled: the first look after it finds it landed', async () => {
    const { client, node, job } = await nodeRunningAJob();
    const record = persisted(await client.prepareNodeTransaction(node, { kind: 'finish', job, resultCid: RESULT }));
    await client.broadcastNodeTransaction(record, { awaitLandingMs: 10_000 });
    assert.equal((await client.resolveNodeTransaction(record)).outcome, 'landed');
    assert.equal((await client.getJob(job))?.status, 'COMPLETED');

    // The same bytes again: settled already, so nothing is waited for.
    const started = Date.now();
    await client.broadcastNodeTransaction(record, { awaitLandingMs: 10_000 });
    assert.ok(Date.now() - started < 10_000, 'settled already: no wait');
  });

  test('a finish whose own signature was never seen resolves landed from its effect on chain', async () => {
    const { localnet, client, node, job } = await nodeRunningAJob();
    const connection = localnet.connection();
    const payout = nosTokenAccount(LOCALNET, node.publicKey);
    const before = await tokenBalance(connection, payout);
    const unsent = persisted(await client.prepareNodeTransaction(node, { kind: 'finish', job, resultCid: RESULT }));
    localnet.chain.clock.advance(1); // a later blockhash: different bytes for the same finish
    const sent = await send(client, node, { kind: 'finish', job, resultCid: RESULT });
    assert.notEqual(sent.signature, unsent.signature);

    const resolution = await client.resolveNodeTransaction(unsent);
    assert.deepEqual(resolution, { outcome: 'landed', evidence: 'effect' });
    const step = decideNodeTransactionStep(unsent, resolution, observeJob(await client.getJob(job)));
    assert.equal(step.step, 'done');
    assert.equal((await connection.getSignatureStatuses([unsent.signature])).value[0], null, 'the unsent finish never ran');
    const done = await client.getJob(job);
    assert.equal(await tokenBalance(connection, payout), before + jobCost(PRICE, done!.account.timeEnd - done!.account.timeStart, TIMEOUT));
  });

  test('a finish never broadcast is pending while its blockhash lives, expired after, and only then replaced', async () => {
    const { localnet, client, node, job } = await nodeRunningAJob();
    const connection = localnet.connection();
    const payout = nosTokenAccount(LOCALNET, node.publicKey);
    const before = await tokenBalance(connection, payout);
    const record = persisted(await client.prepareNodeTransaction(node, { kind: 'finish', job, resultCid: RESULT }));

    const early = await client.resolveNodeTransaction(record);
    assert.equal(early.outcome, 'pending');
    assert.equal(
      decideNodeTransactionStep(record, early, observeJob(await client.getJob(job))).step,
      'resend',
      'no new finish while the recorded one may land',
    );

    // Past the blockhash's lifetime and its finalization.
    localnet.chain.clock.advance(((CHAIN.blockhashLifetime + CHAIN.finalizeAfterSlots + 5) * CHAIN.slotMs) / 1000);
    const expired = await settle(client, record);
    assert.equal(expired.outcome, 'expired');
    const step = decideNodeTransactionStep(record, expired, observeJob(await client.getJob(job)));
    assert.deepEqual({ step: step.step, reason: 'reason' in step ? step.reason : undefined }, { step: 'resign', reason: 'expired' });

    // The expired bytes no longer land, even sent now; the new finish does, once.
    await client.broadcastNodeTransaction(record);
    const replacement = await send(client, node, { kind: 'finish', job, resultCid: RESULT });
    assert.notEqual(replacement.signature, record.signature);
    await sleep(4 * CHAIN.slotMs);
    assert.equal((await connection.getSignatureStatuses([record.signature], { searchTransactionHistory: true })).value[0], null);
    const done = await client.getJob(job);
    assert.equal(done?.status, 'COMPLETED');
    assert.equal(await tokenBalance(connection, payout), before + jobCost(PRICE, done.account.timeEnd - done.account.timeStart, TIMEOUT));
  });

  test('a quit releases the assigned job unpaid: it is stopped, its run closed, its deposit whole for the poster', async () => {
    const { localnet, client, node, job } = await nodeRunningAJob();
    const connection = localnet.connection();
    const payout = nosTokenAccount(LOCALNET, node.publicKey);
    const before = await tokenBalance(connection, payout);
    localnet.chain.clock.advance(5);

    const record = persisted(await client.prepareNodeTransaction(node, { kind: 'quit', job }));
    await client.broadcastNodeTransaction(record);
    await client.broadcastNodeTransaction(record);
    const resolution = await settle(client, record);
    assert.equal(resolution.outcome, 'landed');

    const stopped = await client.getJob(job);
    assert.equal(stopped?.status, 'STOPPED');
    assert.equal(stopped.run, undefined, 'the run account is closed');
    assert.deepEqual(await client.getRunsByNode(node.publicKey), []);
    assert.equal(await tokenBalance(connection, payout), before, 'a quit earns nothing');
    assert.equal(decideNodeTransactionStep(record, resolution, observeJob(stopped)).step, 'done');
    await assert.rejects(client.prepareNodeTransaction(node, { kind: 'finish', job, resultCid: RESULT }), /no open run/);

    // The job is free again: its poster gets the whole deposit back.
    const posterAccount = nosTokenAccount(LOCALNET, localnet.poster.publicKey);
    const posterBefore = await tokenBalance(connection, posterAccount);
    await client.recover(localnet.poster, job);
    assert.equal(await tokenBalance(connection, posterAccount), posterBefore + jobDeposit(PRICE, TIMEOUT));
  });

  test('a quit whose own signature was never seen resolves landed from its effect: the job stopped, its run closed', async () => {
    const { localnet, client, node, job } = await nodeRunningAJob();
    const connection = localnet.connection();
    const unsent = persisted(await client.prepareNodeTransaction(node, { kind: 'quit', job }));
    localnet.chain.clock.advance(1); // a later blockhash: different bytes for the same quit
    const sent = await send(client, node, { kind: 'quit', job });
    assert.notEqual(sent.signature, unsent.signature);

    const resolution = await client.resolveNodeTransaction(unsent);
    assert.deepEqual(resolution, { outcome: 'landed', evidence: 'effect' });
    assert.equal(decideNodeTransactionStep(unsent, resolution, observeJob(await client.getJob(job))).step, 'done');
    assert.equal((await connection.getSignatureStatuses([unsent.signature])).value[0], null, 'the unsent quit never ran');
  });

  test('after the poster ends the job a recorded finish fails and is not re-signed; complete posts the result', async () => {
    const { localnet, client, node, job } = await nodeRunningAJob();
    const connection = localnet.connection();
    const payout = nosTokenAccount(LOCALNET, node.publicKey);
    const before = await tokenBalance(connection, payout);
    localnet.chain.clock.advance(10);
    const finish = persisted(await client.prepareNodeTransaction(node, { kind: 'finish', job, resultCid: RESULT }));

    await client.end(localnet.poster, job);
    const ended = await client.getJob(job);
    assert.equal(ended?.status, 'COMPLETED');
    const earned = jobCost(PRICE, ended.account.timeEnd - ended.account.timeStart, TIMEOUT);
    assert.equal(await tokenBalance(connection, payout), before + earned, 'end pays the node for the time it ran');

    await client.broadcastNodeTransaction(finish);
    const failed = await settle(client, finish);
    assert.equal(failed.outcome, 'failed', JSON.stringify(failed));
    const step = decideNodeTransactionStep(finish, failed, observeJob(await client.getJob(job)));
    assert.deepEqual(
      { step: step.step, reason: 'reason' in step ? step.reason : undefined },
      { step: 'give-up', reason: 'ended-by-poster' },
    );
    await assert.rejects(client.prepareNodeTransaction(node, { kind: 'finish', job, resultCid: RESULT }), /no open run/);

    const complete = persisted(await client.prepareNodeTransaction(node, { kind: 'complete', job, resultCid: RESULT }));
    await client.broadcastNodeTransaction(complete);
    await client.broadcastNodeTransaction(complete);
    const resolution = await settle(client, complete);
    assert.equal(resolution.outcome, 'landed');
    const completed = await client.getJob(job);
    assert.equal(bytes32ToCid(completed!.account.ipfsResult), RESULT);
    assert.equal(decideNodeTransactionStep(complete, resolution, observeJob(completed)).step, 'done');
    assert.equal(await tokenBalance(connection, payout), before + earned, 'complete moves no money');
    await assert.rejects(client.prepareNodeTransaction(node, { kind: 'complete', job, resultCid: RESULT }), /already has a result/);
  });

  test('a recorded leave-queue takes the node out of the queue; a second one is refused before it is signed', async () => {
    const localnet = getLocalnet();
    const client = localnet.jobsClient();
    const node = Keypair.generate();
    localnet.chain.ledger.airdrop(node.publicKey, 2n * LAMPORTS_PER_SOL);
    await client.ensureStake(node);
    await send(client, node, { kind: 'work', market: localnet.market });
    assert.ok((await client.getMarket(localnet.market))?.account.queue.some((entry) => entry.equals(node.publicKey)));

    const leave = await send(client, node, { kind: 'leave-queue', market: localnet.market });
    assert.equal(leave.kind, 'leave-queue');
    assert.ok(!(await client.getMarket(localnet.market))?.account.queue.some((entry) => entry.equals(node.publicKey)));
    await assert.rejects(
      client.prepareNodeTransaction(node, { kind: 'leave-queue', market: localnet.market }),
      (error: unknown) => error instanceof TransactionFailedError && error.programError !== undefined,
    );
  });
});
