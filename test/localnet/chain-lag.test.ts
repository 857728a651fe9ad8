// Reads answered from the past, as by a load-balanced RPC whose backend lags (the `lagSlots` and
// `lagRate` faults), and minContextSlot, which lets a client refuse such answers (-32016). The
// clock is injected, so every slot below is exact.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Connection, Keypair, LAMPORTS_PER_SOL, PublicKey, SolanaJSONRPCError, SystemProgram, Transaction } from '@solana/web3.js';
import { AccountHistory, PAST_STATE_SLOTS } from '../../src/localnet/chain/account-history.ts';
import { createChainServer, type ChainServer } from '../../src/localnet/chain/server.ts';

const SLOT_MS = 100;
const FINALIZE_AFTER = 2;
const CLOCK_SYSVAR = new PublicKey('SysvarC1ock11111111111111111111111111111111');

async function rawRpc(url: string, method: string, params: unknown[]): Promise<{ result?: unknown; error?: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return (await response.json()) as { result?: unknown; error?: unknown };
}

const NOT_REACHED = (contextSlot: number) => ({
  code: -32016,
  message: 'Minimum context slot has not been reached',
  data: { contextSlot },
});

describe('reads from a lagging backend', () => {
  const start = Date.UTC(2026, 0, 1);
  let server: ChainServer;
  let connection: Connection;
  const payer = Keypair.generate();
  const recipient = Keypair.generate().publicKey;
  const closed = Keypair.generate().publicKey;
  let first: { signature: string; slot: number };
  let second: { signature: string; slot: number };

  const advanceSlots = (slots: number) => server.clock.advance((slots * SLOT_MS) / 1000);

  /** Sends a transfer and lets one slot pass, so it lands at the next slot. */
  async function transfer(lamports: number): Promise<{ signature: string; slot: number }> {
    const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash('processed');
    const transaction = new Transaction({ feePayer: payer.publicKey, blockhash, lastValidBlockHeight }).add(
      SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: recipient, lamports }),
    );
    transaction.sign(payer);
    const signature = await connection.sendRawTransaction(transaction.serialize());
    advanceSlots(1);
    const status = (await connection.getSignatureStatuses([signature])).value[0];
    assert.ok(status, 'the transfer landed');
    return { signature, slot: status.slot };
  }

  before(async () => {
    server = await createChainServer({
      programs: [],
      slotMs: SLOT_MS,
      blockhashLifetime: 300,
      finalizeAfterSlots: FINALIZE_AFTER,
      now: () => start,
    });
    connection = new Connection(server.url, 'confirmed');
    server.ledger.airdrop(payer.publicKey, 10n * BigInt(LAMPORTS_PER_SOL));
    server.ledger.airdrop(closed, BigInt(LAMPORTS_PER_SOL));
    advanceSlots(10);
    first = await transfer(LAMPORTS_PER_SOL);
    advanceSlots(10);
    second = await transfer(2 * LAMPORTS_PER_SOL);
    // An account that existed in the past and is gone now.
    server.ledger.put(closed, undefined);
    advanceSlots(8);
    assert.equal(await connection.getSlot('processed'), 30);
    assert.deepEqual([first.slot, second.slot], [11, 22]);
  });

  after(() => server.close());

  test('lagSlots answers state reads as of an older slot: later changes unseen, replaced values back, the old context slot', async () => {
    server.faults.set({ lagSlots: 15 });
    try {
      const balance = await connection.getBalanceAndContext(recipient);
      assert.deepEqual(
        { slot: balance.context.slot, value: balance.value },
        { slot: 15, value: LAMPORTS_PER_SOL },
        'the second transfer is not seen yet',
      );
      const accounts = await connection.getMultipleAccountsInfoAndContext([recipient, closed]);
      assert.equal(accounts.context.slot, 15);
      assert.deepEqual(
        accounts.value.map((account) => account?.lamports),
        [LAMPORTS_PER_SOL, LAMPORTS_PER_SOL],
        'the closed account still exists at slot 15',
      );
      const systemAccounts = await connection.getProgramAccounts(SystemProgram.programId);
      assert.equal(systemAccounts.find(({ pubkey }) => pubkey.equals(recipient))?.account.lamports, LAMPORTS_PER_SOL);
      assert.ok(systemAccounts.some(({ pubkey }) => pubkey.equals(closed)));

      const statuses = await connection.getSignatureStatuses([first.signature, second.signature], { searchTransactionHistory: true });
      assert.equal(statuses.context.slot, 15);
      assert.equal(statuses.value[0]?.confirmationStatus, 'finalized');
      assert.equal(statuses.value[1], null);
      const history = await connection.getSignaturesForAddress(recipient, {}, 'confirmed');
      assert.deepEqual(
        history.map((entry) => entry.signature),
        [first.signature],
      );
      assert.equal(await connection.getTransaction(second.signature, { maxSupportedTransactionVersion: 0 }), null);
      assert.notEqual(await connection.getTransaction(first.signature, { maxSupportedTransactionVersion: 0 }), null);
      assert.equal((await connection.getAccountInfo(CLOCK_SYSVAR))?.data.readBigUInt64LE(0), 15n, 'the Clock sysvar as of slot 15');

      // The cluster's clock comes from the up-to-date backend.
      assert.equal(await connection.getSlot('processed'), 30);
      assert.equal(await connection.getBlockHeight('finalized'), 30 - FINALIZE_AFTER);

      server.faults.lagSlots = 5;
      assert.deepEqual((await connection.getBalanceAndContext(recipient)).value, 3 * LAMPORTS_PER_SOL);
      assert.equal(await connection.getAccountInfo(closed), null, 'closed before slot 25');
      assert.equal((await connection.getSignatureStatuses([second.signature])).value[0]?.confirmationStatus, 'finalized');
    } finally {
      server.faults.clear();
    }
    const now = await connection.getBalanceAndContext(recipient);
    assert.deepEqual({ slot: now.context.slot, value: now.value }, { slot: 30, value: 3 * LAMPORTS_PER_SOL });
  });

  test('lagRate sends only that fraction of reads to the lagging backend', async () => {
    server.faults.set({ lagSlots: 15, lagRate: 0.5 });
    try {
      const slots = new Set<number>();
      for (let read = 0; read < 24; read++) slots.add((await connection.getBalanceAndContext(recipient)).context.slot);
      assert.deepEqual(
        [...slots].sort((a, b) => a - b),
        [15, 30],
      );
    } finally {
      server.faults.clear();
    }
  });

  test('minContextSlot above the slot a read is answered at is refused with -32016, as Agave does', async () => {
    const address = recipient.toBase58();
    assert.deepEqual((await rawRpc(server.url, 'getAccountInfo', [address, { minContextSlot: 31 }])).error, NOT_REACHED(30));
    assert.ok((await rawRpc(server.url, 'getAccountInfo', [address, { minContextSlot: 30 }])).result);
    // Slot reads are answered at their commitment's slot; history at finalized at the root.
    assert.deepEqual((await rawRpc(server.url, 'getSlot', [{ commitment: 'finalized', minContextSlot: 29 }])).error, NOT_REACHED(28));
    assert.deepEqual((await rawRpc(server.url, 'getEpochInfo', [{ commitment: 'finalized', minContextSlot: 29 }])).error, NOT_REACHED(28));
    assert.deepEqual(
      (await rawRpc(server.url, 'getSignaturesForAddress', [address, { commitment: 'finalized', minContextSlot: 29 }])).error,
      NOT_REACHED(28),
    );
    assert.ok((await rawRpc(server.url, 'getSignaturesForAddress', [address, { commitment: 'finalized', minContextSlot: 28 }])).result);

    server.faults.set({ lagSlots: 15 });
    try {
      const refusals = await Promise.all([
        rawRpc(server.url, 'getAccountInfo', [address, { minContextSlot: 16 }]),
        rawRpc(server.url, 'getMultipleAccounts', [[address], { minContextSlot: 16 }]),
        rawRpc(server.url, 'getProgramAccounts', [SystemProgram.programId.toBase58(), { minContextSlot: 16 }]),
        rawRpc(server.url, 'getBalance', [address, { minContextSlot: 16 }]),
        rawRpc(server.url, 'getSignaturesForAddress', [address, { commitment: 'confirmed', minContextSlot: 15 }]),
      ]);
      assert.deepEqual(
        refusals.map((answer) => answer.error),
        [NOT_REACHED(15), NOT_REACHED(15), NOT_REACHED(15), NOT_REACHED(15), NOT_REACHED(14)],
      );
      // An up-to-date answer where the lagging one would be refused: the slot reads stay current.
      assert.equal((await rawRpc(server.url, 'getBlockHeight', [{ commitment: 'processed', minContextSlot: 30 }])).result, 30);
      // Through web3.js, the refusal is a SolanaJSONRPCError carrying the code.
      const refused = await connection.getAccountInfoAndContext(recipient, { minContextSlot: 16 }).then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(refused instanceof SolanaJSONRPCError && refused.code === -32016, String(refused));
      await assert.rejects(
        connection.getSignaturesForAddress(recipient, { minContextSlot: 29 }, 'finalized'),
        /Minimum context slot has not been reached/,
      );
      // getSignatureStatuses takes no minContextSlot (Agave ignores it): only its context slot tells.
      const statuses = await rawRpc(server.url, 'getSignatureStatuses', [[second.signature], { minContextSlot: 30 }]);
      assert.deepEqual(statuses.result, { context: { slot: 15, apiVersion: '2.2.0-nosana-localnet' }, value: [null] });
    } finally {
      server.faults.clear();
    }
  });

  test('lag settings are validated: no further back than the past kept', () => {
    assert.throws(() => server.faults.set({ lagSlots: PAST_STATE_SLOTS + 1 }), /lagSlots must be at most 512/);
    assert.throws(() => {
      server.faults.lagSlots = -1;
    }, /non-negative integer/);
    assert.throws(() => {
      server.faults.lagRate = 2;
    }, /lagRate must be a fraction/);
    assert.equal(server.faults.lagSlots, 0);
  });
});

describe('the past the ledger keeps', () => {
  test('is bounded to its window of slots, and exact inside it', () => {
    const history = new AccountHistory(8);
    const account = (lamports: bigint) => ({ lamports, owner: SystemProgram.programId, data: Buffer.alloc(0), executable: false });
    let current: ReturnType<typeof account> | undefined;
    for (let slot = 1; slot <= 1000; slot++) {
      history.record(slot, 'A', current);
      history.record(slot, 'A', account(BigInt(slot) * 10n)); // a second write in the slot adds nothing
      current = account(BigInt(slot));
    }
    assert.ok(history.size <= 9, `kept ${history.size} changes`);
    // At the end of slot 995 the account held what slot 995 wrote.
    assert.equal(history.valueAt('A', 995, current)?.lamports, 995n);
    assert.equal(history.valueAt('A', 1000, current)?.lamports, 1000n);
    assert.deepEqual([...history.changedAfter(997)], ['A']);
    assert.deepEqual([...history.changedAfter(1000)], []);
  });
});
