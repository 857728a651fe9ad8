// Transaction semantics of the localnet, seen through @solana/web3.js over HTTP: landing and
// confirmation, signatures, blockhash expiry, duplicates, rollback, fees, rent and compute.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AddressLookupTableAccount,
  ComputeBudgetProgram,
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  SendTransactionError,
  SystemProgram,
  Transaction,
  PublicKey,
  TransactionMessage,
  VersionedTransaction,
  type SignatureStatus,
  type TransactionInstruction,
} from '@solana/web3.js';
import bs58 from 'bs58';
import { createChainServer, type ChainServer } from '../../src/localnet/chain/server.ts';
import { landed } from './support.ts';

const SLOT_MS = 20;
// Long enough (10 s) that a loaded machine never expires a blockhash by accident; expiry tests advance the clock.
const LIFETIME = 500;

describe('localnet transactions', () => {
  let server: ChainServer;
  let connection: Connection;
  const payer = Keypair.generate();

  async function transaction(instructions: TransactionInstruction[], signers: Keypair[] = [payer]): Promise<Transaction> {
    const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash('confirmed');
    const tx = new Transaction({ feePayer: signers[0]?.publicKey ?? payer.publicKey, blockhash, lastValidBlockHeight }).add(
      ...instructions,
    );
    tx.sign(...signers);
    return tx;
  }

  async function send(tx: Transaction, skipPreflight = false): Promise<SignatureStatus & { signature: string }> {
    const signature = await connection.sendRawTransaction(tx.serialize(), { skipPreflight });
    return { ...(await landed(connection, signature, SLOT_MS)), signature };
  }

  function transfer(to: PublicKey, lamports: number, from: PublicKey = payer.publicKey): TransactionInstruction {
    return SystemProgram.transfer({ fromPubkey: from, toPubkey: to, lamports });
  }

  async function balance(key: PublicKey): Promise<number> {
    return connection.getBalance(key, 'confirmed');
  }

  before(async () => {
    server = await createChainServer({ programs: [], slotMs: SLOT_MS, blockhashLifetime: LIFETIME, finalizeAfterSlots: 4 });
    connection = new Connection(server.url, 'confirmed');
    await landed(connection, await connection.requestAirdrop(payer.publicKey, 100 * LAMPORTS_PER_SOL), SLOT_MS);
  });

  after(() => server.close());

  test('an airdrop and a transfer land, confirm, finalize and move exactly amount + fee', async () => {
    const recipient = Keypair.generate().publicKey;
    const before = await balance(payer.publicKey);
    const status = await send(await transaction([transfer(recipient, LAMPORTS_PER_SOL)]));
    assert.equal(status.err, null);
    assert.equal(await balance(recipient), LAMPORTS_PER_SOL);
    assert.equal(await balance(payer.publicKey), before - LAMPORTS_PER_SOL - 5000);
    const details = await connection.getTransaction(status.signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
    assert.equal(details?.meta?.fee, 5000);
    assert.deepEqual(details?.meta?.logMessages, [
      'Program 11111111111111111111111111111111 invoke [1]',
      'Program 11111111111111111111111111111111 success',
    ]);
    const deadline = Date.now() + 20_000;
    let level = status.confirmationStatus;
    while (level !== 'finalized' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, SLOT_MS));
      level = (await connection.getSignatureStatuses([status.signature])).value[0]?.confirmationStatus;
    }
    assert.equal(level, 'finalized');
  });

  test('a v0 transaction lands like a legacy one', async () => {
    const recipient = Keypair.generate().publicKey;
    const { blockhash } = await connection.getLatestBlockhash('confirmed');
    const message = new TransactionMessage({
      payerKey: payer.publicKey,
      recentBlockhash: blockhash,
      instructions: [transfer(recipient, LAMPORTS_PER_SOL)],
    }).compileToV0Message();
    const tx = new VersionedTransaction(message);
    tx.sign([payer]);
    const signature = await connection.sendTransaction(tx);
    assert.equal((await landed(connection, signature, SLOT_MS)).err, null);
    assert.equal(await balance(recipient), LAMPORTS_PER_SOL);
    const details = await connection.getTransaction(signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
    assert.equal(details?.version, 0);
  });

  test('a bad signature is refused by preflight and never lands without it', async () => {
    const recipient = Keypair.generate().publicKey;
    const tx = await transaction([transfer(recipient, LAMPORTS_PER_SOL)]);
    const signature = tx.signatures[0]?.signature;
    assert.ok(signature);
    signature[0] = (signature[0] ?? 0) ^ 0xff;
    const bytes = tx.serialize({ verifySignatures: false });
    await assert.rejects(connection.sendRawTransaction(bytes), (error: Error) =>
      error.message.includes('Transaction signature verification failure'),
    );
    const tampered = await connection.sendRawTransaction(bytes, { skipPreflight: true });
    // A later good transaction landing means the tampered one (accepted first) was processed too.
    await send(await transaction([transfer(Keypair.generate().publicKey, LAMPORTS_PER_SOL)]));
    assert.equal((await connection.getSignatureStatuses([tampered], { searchTransactionHistory: true })).value[0], null);
    assert.equal(await balance(recipient), 0);
  });

  test('a transaction with an expired blockhash is refused with BlockhashNotFound', async () => {
    const tx = await transaction([transfer(Keypair.generate().publicKey, LAMPORTS_PER_SOL)]);
    assert.equal((await connection.isBlockhashValid(tx.recentBlockhash as string)).value, true);
    server.clock.advance(((LIFETIME + 2) * SLOT_MS) / 1000);
    assert.equal((await connection.isBlockhashValid(tx.recentBlockhash as string)).value, false);
    await assert.rejects(connection.sendRawTransaction(tx.serialize()), (error: Error) => {
      assert.ok(error instanceof SendTransactionError);
      assert.match(error.message, /Blockhash not found/);
      return true;
    });
  });

  test('getLatestBlockhash reports lastValidBlockHeight = height + lifetime', async () => {
    const { context, value } = await connection.getLatestBlockhashAndContext('processed');
    assert.equal(value.lastValidBlockHeight, context.slot + LIFETIME);
  });

  test('sending the same transaction twice moves the money once and reports AlreadyProcessed', async () => {
    const recipient = Keypair.generate().publicKey;
    const tx = await transaction([transfer(recipient, LAMPORTS_PER_SOL)]);
    await send(tx);
    await assert.rejects(connection.sendRawTransaction(tx.serialize()), /already been processed/);
    // Without preflight the node accepts it, but the bank drops the duplicate.
    const again = await connection.sendRawTransaction(tx.serialize(), { skipPreflight: true });
    assert.equal(again, bs58.encode(tx.signature as Buffer));
    await send(await transaction([transfer(Keypair.generate().publicKey, LAMPORTS_PER_SOL)]));
    assert.equal(await balance(recipient), LAMPORTS_PER_SOL);
  });

  test('a failing instruction rolls back the whole transaction but the fee is charged', async () => {
    const first = Keypair.generate().publicKey;
    const second = Keypair.generate().publicKey;
    const before = await balance(payer.publicKey);
    const tx = await transaction([transfer(first, LAMPORTS_PER_SOL), transfer(second, 10_000 * LAMPORTS_PER_SOL)]);
    await assert.rejects(connection.sendRawTransaction(tx.serialize()), (error: Error) => {
      assert.ok(error instanceof SendTransactionError);
      assert.ok(error.logs?.some((line) => line.startsWith('Transfer: insufficient lamports')));
      return true;
    });
    const status = await send(tx, true);
    assert.deepEqual(status.err, { InstructionError: [1, { Custom: 1 }] });
    assert.equal(await balance(first), 0);
    assert.equal(await balance(second), 0);
    assert.equal(await balance(payer.publicKey), before - 5000);
    const details = await connection.getTransaction(status.signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
    assert.ok(details?.meta?.logMessages?.includes('Program 11111111111111111111111111111111 failed: custom program error: 0x1'));
  });

  test('lamports are conserved: the ledger total only falls by the fees charged', async () => {
    const other = Keypair.generate();
    await send(await transaction([transfer(other.publicKey, 2 * LAMPORTS_PER_SOL)]));
    const totalBefore = server.ledger.totalLamports();
    const burnedBefore = server.ledger.burnedFees;
    const statuses = [
      await send(
        await transaction([transfer(other.publicKey, LAMPORTS_PER_SOL), transfer(Keypair.generate().publicKey, LAMPORTS_PER_SOL)]),
      ),
      await send(await transaction([transfer(payer.publicKey, LAMPORTS_PER_SOL / 2, other.publicKey)], [other])),
      await send(await transaction([transfer(Keypair.generate().publicKey, 10_000 * LAMPORTS_PER_SOL)]), true),
    ];
    let fees = 0n;
    for (const { signature } of statuses) {
      const details = await connection.getTransaction(signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
      fees += BigInt(details?.meta?.fee ?? Number.NaN);
    }
    assert.equal(fees, 3n * 5000n);
    assert.equal(server.ledger.totalLamports(), totalBefore - fees);
    assert.equal(server.ledger.burnedFees - burnedBefore, fees);
  });

  test('an account left with less than its rent-exempt minimum fails the transaction', async () => {
    const tx = await transaction([transfer(Keypair.generate().publicKey, 1000)]);
    await assert.rejects(connection.sendRawTransaction(tx.serialize()), /insufficient funds for rent/);
    assert.equal(await connection.getMinimumBalanceForRentExemption(0), 890_880);
  });

  test('the compute unit price adds a priority fee of ceil(limit × price / 1e6) lamports', async () => {
    const before = await balance(payer.publicKey);
    const recipient = Keypair.generate().publicKey;
    const status = await send(
      await transaction([
        ComputeBudgetProgram.setComputeUnitLimit({ units: 10_001 }),
        ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 1_000_000 }),
        transfer(recipient, LAMPORTS_PER_SOL),
      ]),
    );
    assert.equal(status.err, null);
    assert.equal(await balance(payer.publicKey), before - LAMPORTS_PER_SOL - 5000 - 10_001);
    const fees = await connection.getRecentPrioritizationFees({ lockedWritableAccounts: [recipient] });
    assert.ok(fees.some((fee) => fee.slot === status.slot && fee.prioritizationFee === 1_000_000));
  });

  test('getFeeForMessage prices a message like the bank charges it, and is null for an unknown blockhash', async () => {
    const tx = await transaction([
      ComputeBudgetProgram.setComputeUnitLimit({ units: 300_000 }),
      ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 10 }),
      transfer(Keypair.generate().publicKey, LAMPORTS_PER_SOL),
    ]);
    assert.equal((await connection.getFeeForMessage(tx.compileMessage())).value, 5000 + 3);
    const unknown = new Transaction({
      feePayer: payer.publicKey,
      blockhash: Keypair.generate().publicKey.toBase58(),
      lastValidBlockHeight: 0,
    }).add(transfer(Keypair.generate().publicKey, 1));
    assert.equal((await connection.getFeeForMessage(unknown.compileMessage())).value, null);
  });

  test('createAccountWithSeed creates the derived account; a wrong address fails with AddressWithSeedMismatch', async () => {
    const owner = Keypair.generate().publicKey;
    const derived = await PublicKey.createWithSeed(payer.publicKey, 'records', owner);
    const create = (newAccountPubkey: PublicKey) =>
      SystemProgram.createAccountWithSeed({
        fromPubkey: payer.publicKey,
        basePubkey: payer.publicKey,
        seed: 'records',
        newAccountPubkey,
        lamports: 2_000_000,
        space: 64,
        programId: owner,
      });
    assert.equal((await send(await transaction([create(derived)]))).err, null);
    const account = await connection.getAccountInfo(derived);
    assert.equal(account?.owner.toBase58(), owner.toBase58());
    assert.equal(account?.data.length, 64);
    const status = await send(await transaction([create(Keypair.generate().publicKey)]), true);
    assert.deepEqual(status.err, { InstructionError: [0, { Custom: 5 }] });
  });

  test('a transaction that exceeds its compute unit limit fails with ComputationalBudgetExceeded', async () => {
    const status = await send(
      await transaction([
        ComputeBudgetProgram.setComputeUnitLimit({ units: 200 }),
        transfer(Keypair.generate().publicKey, LAMPORTS_PER_SOL),
      ]),
      true,
    );
    assert.deepEqual(status.err, { InstructionError: [1, 'ComputationalBudgetExceeded'] });
  });

  test('simulateTransaction returns logs, units consumed and the simulated accounts without changing anything', async () => {
    const recipient = Keypair.generate().publicKey;
    const tx = await transaction([transfer(recipient, LAMPORTS_PER_SOL)]);
    const message = tx.compileMessage();
    const simulated = await connection.simulateTransaction(
      new VersionedTransaction(
        message,
        tx.signatures.map((s) => s.signature ?? new Uint8Array(64)),
      ),
      {
        sigVerify: true,
        accounts: { encoding: 'base64', addresses: [recipient.toBase58()] },
      },
    );
    assert.equal(simulated.value.err, null);
    assert.equal(simulated.value.unitsConsumed, 150);
    assert.deepEqual(simulated.value.logs, [
      'Program 11111111111111111111111111111111 invoke [1]',
      'Program 11111111111111111111111111111111 success',
    ]);
    assert.equal(simulated.value.accounts?.[0]?.lamports, LAMPORTS_PER_SOL);
    assert.equal(await balance(recipient), 0);
  });

  test('simulateTransaction with replaceRecentBlockhash ignores an expired blockhash and returns the replacement', async () => {
    const tx = await transaction([transfer(Keypair.generate().publicKey, LAMPORTS_PER_SOL)]);
    server.clock.advance(((LIFETIME + 2) * SLOT_MS) / 1000);
    const versioned = new VersionedTransaction(tx.compileMessage());
    const plain = await connection.simulateTransaction(versioned);
    assert.equal(plain.value.err, 'BlockhashNotFound');
    const replaced = await connection.simulateTransaction(versioned, { replaceRecentBlockhash: true });
    assert.equal(replaced.value.err, null);
    // web3.js does not type the field, but passes it through.
    const replacement = (replaced.value as { replacementBlockhash?: { blockhash: string } }).replacementBlockhash;
    assert.ok(replacement);
    assert.equal((await connection.isBlockhashValid(replacement.blockhash)).value, true);
  });

  test('a fee payer without an account is refused before execution (AccountNotFound)', async () => {
    const poor = Keypair.generate();
    const tx = await transaction([transfer(payer.publicKey, 1, poor.publicKey)], [poor]);
    await assert.rejects(connection.sendRawTransaction(tx.serialize()), /no record of a prior credit/);
  });

  test('address table lookups are refused with a clear error', async () => {
    const { blockhash } = await connection.getLatestBlockhash();
    const recipient = Keypair.generate().publicKey;
    const table = new AddressLookupTableAccount({
      key: Keypair.generate().publicKey,
      state: { deactivationSlot: 2n ** 64n - 1n, lastExtendedSlot: 0, lastExtendedSlotStartIndex: 0, addresses: [recipient] },
    });
    const message = new TransactionMessage({
      payerKey: payer.publicKey,
      recentBlockhash: blockhash,
      instructions: [transfer(recipient, LAMPORTS_PER_SOL)],
    }).compileToV0Message([table]);
    const tx = new VersionedTransaction(message);
    tx.sign([payer]);
    await assert.rejects(connection.sendTransaction(tx), /address table lookups are not supported/);
  });
});
