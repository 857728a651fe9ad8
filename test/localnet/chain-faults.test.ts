// Fault injection and history retention: what a client sees from a node that drops, delays,
// rate-limits, fails, hangs, expires blockhashes early or keeps no history.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Connection, Keypair, LAMPORTS_PER_SOL, SystemProgram, Transaction } from '@solana/web3.js';
import bs58 from 'bs58';
import { FaultDice } from '../../src/localnet/chain/faults.ts';
import { createChainServer, type ChainServer } from '../../src/localnet/chain/server.ts';
import { landed } from './support.ts';

const SLOT_MS = 20;
// Long enough (10 s) that a loaded machine never expires a blockhash by accident; expiry tests advance the clock.
const LIFETIME = 500;

async function transferTransaction(connection: Connection, payer: Keypair, lamports = LAMPORTS_PER_SOL) {
  const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash('confirmed');
  const recipient = Keypair.generate().publicKey;
  const tx = new Transaction({ feePayer: payer.publicKey, blockhash, lastValidBlockHeight }).add(
    SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: recipient, lamports }),
  );
  tx.sign(payer);
  return { tx, recipient, lastValidBlockHeight };
}

async function rawRpc(url: string, method: string, params: unknown[]): Promise<{ result?: unknown; error?: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return (await response.json()) as { result?: unknown; error?: unknown };
}

describe('fault injection', () => {
  let server: ChainServer;
  let connection: Connection;
  const payer = Keypair.generate();

  before(async () => {
    server = await createChainServer({ programs: [], slotMs: SLOT_MS, blockhashLifetime: LIFETIME, finalizeAfterSlots: 3 });
    connection = new Connection(server.url, { commitment: 'confirmed', disableRetryOnRateLimit: true });
    server.ledger.airdrop(payer.publicKey, 100n * BigInt(LAMPORTS_PER_SOL));
  });

  after(() => server.close());

  test('a dropped transaction gets a signature, never lands, and is known dead once its blockhash expired', async () => {
    server.faults.dropRate = 1;
    const { tx, recipient, lastValidBlockHeight } = await transferTransaction(connection, payer);
    const signature = await connection.sendRawTransaction(tx.serialize());
    server.faults.dropRate = 0;
    const later = await transferTransaction(connection, payer);
    await landed(connection, await connection.sendRawTransaction(later.tx.serialize()), SLOT_MS);
    assert.equal((await connection.getSignatureStatuses([signature])).value[0], null);
    server.clock.advance(((LIFETIME + 2) * SLOT_MS) / 1000);
    assert.ok((await connection.getBlockHeight('confirmed')) > lastValidBlockHeight);
    assert.equal((await connection.getSignatureStatuses([signature], { searchTransactionHistory: true })).value[0], null);
    assert.equal(await connection.getBalance(recipient), 0);
  });

  test('landingDelaySlots holds an accepted transaction back for that many extra slots', async () => {
    server.faults.landingDelaySlots = 5;
    const { tx } = await transferTransaction(connection, payer);
    const sentAt = await connection.getSlot('processed');
    const status = await landed(connection, await connection.sendRawTransaction(tx.serialize()), SLOT_MS);
    server.faults.landingDelaySlots = 0;
    assert.ok(status.slot >= sentAt + 6, `landed at ${status.slot}, sent at ${sentAt}`);
  });

  test('rate limiting answers HTTP 429 with Retry-After: 1', async () => {
    server.faults.rateLimitRate = 1;
    try {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getSlot' }),
      });
      assert.equal(response.status, 429);
      assert.equal(response.headers.get('retry-after'), '1');
      await response.arrayBuffer();
      await assert.rejects(connection.getSlot(), /429/);
    } finally {
      server.faults.rateLimitRate = 0;
    }
  });

  test('server errors answer HTTP 503', async () => {
    server.faults.serverErrorRate = 1;
    try {
      await assert.rejects(connection.getSlot(), /503/);
    } finally {
      server.faults.serverErrorRate = 0;
    }
  });

  test('a hanging request takes effect although the client gave up on the answer', async () => {
    const { tx, recipient } = await transferTransaction(connection, payer);
    server.faults.set({ hangRate: 1, hangMs: 60_000 });
    try {
      await assert.rejects(
        fetch(server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'sendTransaction',
            params: [tx.serialize().toString('base64'), { encoding: 'base64' }],
          }),
          signal: AbortSignal.timeout(200),
        }),
        /TimeoutError|aborted/,
      );
    } finally {
      server.faults.hangRate = 0;
    }
    await landed(connection, bs58.encode(tx.signature as Buffer), SLOT_MS);
    assert.equal(await connection.getBalance(recipient), LAMPORTS_PER_SOL);
  });

  test('expireBlockhashesEarly invalidates blockhashes before their advertised last valid height', async () => {
    server.faults.expireBlockhashesEarly = 2;
    try {
      const { tx, lastValidBlockHeight } = await transferTransaction(connection, payer);
      server.clock.advance((3 * SLOT_MS) / 1000);
      assert.ok((await connection.getBlockHeight('processed')) < lastValidBlockHeight);
      await assert.rejects(connection.sendRawTransaction(tx.serialize()), /Blockhash not found/);
    } finally {
      server.faults.expireBlockhashesEarly = null;
    }
  });

  test('fault settings are validated and the draws repeat for a seed', () => {
    assert.throws(() => {
      server.faults.dropRate = 1.5;
    }, /dropRate must be a fraction/);
    assert.throws(() => server.faults.set({ dropRat: 0.1 } as never), /unknown setting dropRat/);
    const draws = (seed: number) => {
      const dice = new FaultDice(seed);
      return Array.from({ length: 64 }, () => dice.roll(0.5));
    };
    assert.deepEqual(draws(42), draws(42));
    assert.ok(draws(42).includes(true) && draws(42).includes(false));
    assert.notDeepEqual(draws(42), draws(43));
  });

  test('draws between two bounds stay within them, spread over them, and repeat for a seed', () => {
    const between = (seed: number) => {
      const dice = new FaultDice(seed);
      return Array.from({ length: 200 }, () => dice.between(500, 6_000));
    };
    const drawn = between(7);
    assert.deepEqual(drawn, between(7));
    assert.ok(
      drawn.every((value) => value >= 500 && value < 6_000),
      'within [low, high)',
    );
    assert.ok(drawn.some((value) => value < 1_500) && drawn.some((value) => value > 5_000), 'spread from end to end');
  });
});

describe('transaction history retention', () => {
  const payer = Keypair.generate();

  async function landOne(server: ChainServer, connection: Connection): Promise<string> {
    server.ledger.airdrop(payer.publicKey, 10n * BigInt(LAMPORTS_PER_SOL));
    const { tx } = await transferTransaction(connection, payer);
    const signature = await connection.sendRawTransaction(tx.serialize());
    await landed(connection, signature, SLOT_MS);
    return signature;
  }

  test('with history, an old signature is found only when searchTransactionHistory is set', async () => {
    const server = await createChainServer({ programs: [], slotMs: SLOT_MS, blockhashLifetime: LIFETIME, finalizeAfterSlots: 3 });
    try {
      const connection = new Connection(server.url, 'confirmed');
      const signature = await landOne(server, connection);
      server.clock.advance((400 * SLOT_MS) / 1000);
      assert.equal((await connection.getSignatureStatuses([signature])).value[0], null);
      assert.equal(
        (await connection.getSignatureStatuses([signature], { searchTransactionHistory: true })).value[0]?.confirmationStatus,
        'finalized',
      );
      assert.notEqual(await connection.getTransaction(signature, { maxSupportedTransactionVersion: 0 }), null);
    } finally {
      await server.close();
    }
  });

  test('without history the node answers only from its status cache and refuses any history search', async () => {
    const server = await createChainServer({
      programs: [],
      slotMs: SLOT_MS,
      blockhashLifetime: LIFETIME,
      finalizeAfterSlots: 3,
      keepHistory: false,
    });
    try {
      const connection = new Connection(server.url, 'confirmed');
      const signature = await landOne(server, connection);
      await assert.rejects(connection.getSignaturesForAddress(payer.publicKey), /Transaction history is not available from this node/);
      // Agave refuses the search itself (-32011), even for a signature still in the status cache.
      const search = await rawRpc(server.url, 'getSignatureStatuses', [[signature], { searchTransactionHistory: true }]);
      assert.deepEqual(search.error, { code: -32011, message: 'Transaction history is not available from this node' });
      await assert.rejects(
        connection.getSignatureStatuses([signature], { searchTransactionHistory: true }),
        /Transaction history is not available/,
      );
      assert.notEqual((await connection.getSignatureStatuses([signature])).value[0], null);
      server.clock.advance((400 * SLOT_MS) / 1000);
      assert.equal((await connection.getSignatureStatuses([signature])).value[0], null);
      assert.equal(await connection.getTransaction(signature, { maxSupportedTransactionVersion: 0 }), null);
      assert.ok((await connection.getFirstAvailableBlock()) > 0);
    } finally {
      await server.close();
    }
  });
});
