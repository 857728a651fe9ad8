// Create-once posting against the localnet, with its fault knobs: a post is prepared (signed,
// with its last valid block height) before it is sent, and every later look resolves it as
// landed / pending / never-landed / unknown without ever posting twice, also when reads reach a
// backend that lags behind the one the block height came from.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PublicKey } from '@solana/web3.js';
import { nosTokenAccount } from '../../src/chain/addresses.ts';
import { jobDeposit } from '../../src/chain/money.ts';
import type { PendingPost, PendingPostOutcome } from '../../src/chain/jobs-client.ts';
import type { SolanaJobsClient } from '../../src/chain/solana-jobs-client.ts';
import { LOCALNET } from '../../src/localnet/localnet.ts';
import type { Localnet } from '../../src/localnet/localnet.ts';
import { DEFINITION_CID_BYTES, landed, tokenBalance, useLocalnet } from './support.ts';

const PRICE = 10n;
const TIMEOUT = 100n;
// Short slots and blockhash lifetime: a dropped post expires in about a second instead of a minute.
const CHAIN = { slotMs: 40, blockhashLifetime: 20, finalizeAfterSlots: 2 };

async function resolveUntil(
  client: SolanaJobsClient,
  pending: PendingPost,
  wanted: PendingPostOutcome['outcome'],
  seen: Set<string>,
): Promise<PendingPostOutcome> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const resolution = await client.resolvePendingPost(pending);
    seen.add(resolution.outcome);
    if (resolution.outcome === wanted) return resolution;
    if (Date.now() > deadline) assert.fail(`the post never resolved as ${wanted}; last: ${JSON.stringify(resolution)}`);
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
}

function prepare(localnet: Localnet, client: SolanaJobsClient): Promise<PendingPost> {
  return client.preparePost({ wallet: localnet.poster, market: localnet.market, ipfsJob: DEFINITION_CID_BYTES, timeoutSeconds: TIMEOUT });
}

/** Broadcasts while the RPC accepts transactions but never lands them. */
async function broadcastDropped(localnet: Localnet, client: SolanaJobsClient, pending: PendingPost): Promise<void> {
  localnet.chain.faults.dropRate = 1;
  try {
    await client.broadcast(pending);
  } finally {
    localnet.chain.faults.dropRate = 0;
  }
}

describe('create-once posting', () => {
  const getLocalnet = useLocalnet({ market: { price: PRICE }, chain: CHAIN });

  test('the same signed post broadcast three times creates exactly one job', async () => {
    const localnet = getLocalnet();
    const client = localnet.jobsClient();
    const connection = localnet.connection();
    const before = await tokenBalance(connection, nosTokenAccount(LOCALNET, localnet.poster.publicKey));
    const pending = await prepare(localnet, client);
    await client.broadcast(pending);
    await client.broadcast(pending);
    await resolveUntil(client, pending, 'landed', new Set());
    await client.broadcast(pending);

    const job = new PublicKey(pending.jobAddress);
    assert.equal((await client.getJob(job))?.status, 'QUEUED');
    const market = (await client.getMarket(localnet.market))!.account;
    assert.equal(market.queue.filter((entry) => entry.equals(job)).length, 1);
    assert.equal(await tokenBalance(connection, nosTokenAccount(LOCALNET, localnet.poster.publicKey)), before - jobDeposit(PRICE, TIMEOUT));
    // "landed" may come from the job account within the landing slot, before the history (read at confirmed) lists it.
    await landed(connection, pending.signature);
    const history = await connection.getSignaturesForAddress(job);
    assert.deepEqual(
      history.map((entry) => entry.signature),
      [pending.signature],
    );
    await client.delist(localnet.poster, job);
  });

  test('a dropped post resolves as pending, then never-landed once its blockhash has expired', async () => {
    const localnet = getLocalnet();
    const client = localnet.jobsClient();
    const connection = localnet.connection();
    const before = await tokenBalance(connection, nosTokenAccount(LOCALNET, localnet.poster.publicKey));
    const pending = await prepare(localnet, client);
    await broadcastDropped(localnet, client, pending);
    const seen = new Set<string>();
    await resolveUntil(client, pending, 'never-landed', seen);
    assert.ok(seen.has('pending'), 'before expiry the post is reported pending, not never-landed');
    assert.equal(await connection.getAccountInfo(new PublicKey(pending.jobAddress)), null);
    assert.equal(await tokenBalance(connection, nosTokenAccount(LOCALNET, localnet.poster.publicKey)), before);
    // The expired bytes can no longer land, whatever happens to them later.
    await client.broadcast(pending).catch(() => undefined);
    assert.equal((await client.resolvePendingPost(pending)).outcome, 'never-landed');
  });

  test('a post that landed resolves as landed from a fresh client, even after the job was delisted', async () => {
    const localnet = getLocalnet();
    const prepared = localnet.jobsClient();
    const pending = await prepare(localnet, prepared);
    await prepared.broadcast(pending);
    // "Crash": the process that sent it never saw a confirmation; a new one only has the record.
    const restarted = localnet.jobsClient();
    await resolveUntil(restarted, pending, 'landed', new Set());
    await restarted.delist(localnet.poster, new PublicKey(pending.jobAddress));
    const afterDelist = await restarted.resolvePendingPost(pending);
    assert.equal(afterDelist.outcome, 'landed', 'a closed job account is not evidence that the post never landed');
  });

  test('a landed post is still recognised once its blockhash has expired', async () => {
    const localnet = getLocalnet();
    const client = localnet.jobsClient();
    const pending = await prepare(localnet, client);
    await client.broadcast(pending);
    await resolveUntil(client, pending, 'landed', new Set());
    const connection = localnet.connection();
    while ((await connection.getBlockHeight('finalized')) <= pending.lastValidBlockHeight) {
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    assert.equal((await client.resolvePendingPost(pending)).outcome, 'landed');
    await client.delist(localnet.poster, new PublicKey(pending.jobAddress));
  });

  test('a corrupted or edited record is refused instead of being broadcast or resolved', async () => {
    const localnet = getLocalnet();
    const client = localnet.jobsClient();
    const pending = await prepare(localnet, client);
    const other = await prepare(localnet, client);
    await assert.rejects(client.broadcast({ ...pending, transaction: other.transaction }), /do not carry its recorded signature/);
    await assert.rejects(
      client.resolvePendingPost({ ...pending, jobAddress: localnet.market.toBase58() }),
      /does not create the recorded job/,
    );
    // Flip one byte of the signed message (the last byte: the post's timeout argument).
    const bytes = Buffer.from(pending.transaction, 'base64');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    await assert.rejects(client.broadcast({ ...pending, transaction: bytes.toString('base64') }), /does not verify/);
    await assert.rejects(
      client.resolvePendingPost({ ...pending, genesisHash: '11111111111111111111111111111111' }),
      /signed for the cluster/,
    );
  });

  test('a landed post that a lagging backend has not seen is pending, never never-landed, and landed once it catches up', async () => {
    const localnet = getLocalnet();
    const client = localnet.jobsClient();
    const connection = localnet.connection();
    const pending = await prepare(localnet, client);
    await client.broadcast(pending);
    const landedAt = (await landed(connection, pending.signature)).slot;
    // The blockhash expires without waiting: the finalized height passes lastValidBlockHeight.
    localnet.chain.clock.advance(((CHAIN.blockhashLifetime + CHAIN.finalizeAfterSlots + 10) * CHAIN.slotMs) / 1000);
    assert.ok((await connection.getBlockHeight('finalized')) > pending.lastValidBlockHeight);
    // State reads now reach a backend behind the landing slot (with 100 slots, 4 s, to spare).
    const lagSlots = (await connection.getSlot('processed')) - landedAt + 100;
    const job = new PublicKey(pending.jobAddress);
    localnet.chain.faults.set({ lagSlots });
    try {
      assert.equal(await connection.getAccountInfo(job), null, 'the lagging backend has not seen the job');
      assert.equal((await connection.getSignatureStatuses([pending.signature], { searchTransactionHistory: true })).value[0], null);
      assert.deepEqual(await connection.getSignaturesForAddress(job), []);
      assert.equal((await client.resolvePendingPost(pending)).outcome, 'pending', 'answers from before the height was read prove nothing');
    } finally {
      localnet.chain.faults.set({ lagSlots: 0 });
    }
    assert.equal((await client.resolvePendingPost(pending)).outcome, 'landed');
    await client.delist(localnet.poster, job);
  });

  test('behind a load balancer where some reads lag, a landed post is never judged never-landed', async () => {
    const localnet = getLocalnet();
    const client = localnet.jobsClient();
    const connection = localnet.connection();
    const pending = await prepare(localnet, client);
    await client.broadcast(pending);
    const landedAt = (await landed(connection, pending.signature)).slot;
    localnet.chain.clock.advance(((CHAIN.blockhashLifetime + CHAIN.finalizeAfterSlots + 10) * CHAIN.slotMs) / 1000);
    const lagSlots = (await connection.getSlot('processed')) - landedAt + 100;
    const outcomes = new Set<string>();
    localnet.chain.faults.set({ lagSlots, lagRate: 0.5 });
    try {
      for (let look = 0; look < 30; look++) outcomes.add((await client.resolvePendingPost(pending)).outcome);
    } finally {
      localnet.chain.faults.set({ lagSlots: 0, lagRate: 1 });
    }
    assert.ok(!outcomes.has('never-landed'), `outcomes: ${[...outcomes].join(', ')}`);
    assert.ok(outcomes.has('landed'), `outcomes: ${[...outcomes].join(', ')}`);
    await client.delist(localnet.poster, new PublicKey(pending.jobAddress));
  });

  test('an understated lastValidBlockHeight cannot make a live post look never-landed', async () => {
    const localnet = getLocalnet();
    const client = localnet.jobsClient();
    const pending = await prepare(localnet, client);
    // The height is not covered by the signature; the blockhash is, and it is still valid.
    assert.equal((await client.resolvePendingPost({ ...pending, lastValidBlockHeight: 1 })).outcome, 'pending');
  });
});

describe('create-once without transaction history', () => {
  const getLocalnet = useLocalnet({ market: { price: PRICE }, chain: { ...CHAIN, keepHistory: false } });

  test('an expired post the RPC cannot look up resolves as unknown, never as never-landed', async () => {
    const localnet = getLocalnet();
    const client = localnet.jobsClient();
    const pending = await prepare(localnet, client);
    await broadcastDropped(localnet, client, pending);
    const resolution = await resolveUntil(client, pending, 'unknown', new Set());
    assert.match((resolution as { reason: string }).reason, /cannot|history/);
  });
});
