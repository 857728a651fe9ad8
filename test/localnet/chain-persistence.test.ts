// A localnet restarted on the same state file continues the same ledger: accounts, tokens,
// transaction history, duplicate detection, genesis and clock.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Connection, Keypair, LAMPORTS_PER_SOL, SystemProgram, Transaction } from '@solana/web3.js';
import { createChainServer } from '../../src/localnet/chain/server.ts';
import { landed } from './support.ts';

const SLOT_MS = 20;

describe('localnet persistence', () => {
  const directory = mkdtempSync(join(tmpdir(), 'localnet-chain-'));
  after(() => rmSync(directory, { recursive: true, force: true }));

  test('a restarted localnet keeps accounts, tokens, history, genesis and clock, and still refuses duplicates', async () => {
    const stateFile = join(directory, 'ledger.json');
    const payer = Keypair.generate();
    const recipient = Keypair.generate().publicKey;
    const first = await createChainServer({ programs: [], slotMs: SLOT_MS, blockhashLifetime: 500, finalizeAfterSlots: 3, stateFile });
    let connection = new Connection(first.url, 'confirmed');
    first.ledger.airdrop(payer.publicKey, 10n * BigInt(LAMPORTS_PER_SOL));
    const mint = first.ledger.createMint({ mintAuthority: payer.publicKey, decimals: 6 });
    const tokens = first.ledger.createTokenAccount({ mint, owner: payer.publicKey, amount: 1_500_000n });
    const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash('confirmed');
    const tx = new Transaction({ feePayer: payer.publicKey, blockhash, lastValidBlockHeight }).add(
      SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: recipient, lamports: LAMPORTS_PER_SOL }),
    );
    tx.sign(payer);
    const signature = await connection.sendRawTransaction(tx.serialize());
    await landed(connection, signature, SLOT_MS);
    first.clock.advance(120);
    const slotBefore = await connection.getSlot('processed');
    const genesis = await connection.getGenesisHash();
    const payerBalance = await connection.getBalance(payer.publicKey);
    await first.close();

    const second = await createChainServer({ programs: [], slotMs: SLOT_MS, blockhashLifetime: 500, finalizeAfterSlots: 3, stateFile });
    try {
      connection = new Connection(second.url, 'confirmed');
      assert.equal(await connection.getGenesisHash(), genesis);
      assert.ok((await connection.getSlot('processed')) >= slotBefore);
      assert.equal(await connection.getBalance(payer.publicKey), payerBalance);
      assert.equal(await connection.getBalance(recipient), LAMPORTS_PER_SOL);
      assert.equal((await connection.getTokenAccountBalance(tokens)).value.uiAmountString, '1.5');
      const status = (await connection.getSignatureStatuses([signature], { searchTransactionHistory: true })).value[0];
      assert.equal(status?.err, null);
      const details = await connection.getTransaction(signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
      assert.equal(details?.meta?.fee, 5000);
      assert.equal((await connection.getSignaturesForAddress(recipient))[0]?.signature, signature);
      await assert.rejects(connection.sendRawTransaction(tx.serialize()), /already been processed/);
    } finally {
      await second.close();
    }
  });

  test('a corrupt state file is refused with the file named', async () => {
    const stateFile = join(directory, 'corrupt.json');
    writeFileSync(stateFile, JSON.stringify({ format: 'nosana-operator-localnet-ledger/1', accounts: 'nope' }));
    await assert.rejects(
      createChainServer({ programs: [], stateFile }),
      (error: Error) => error.message.includes(stateFile) && /not a valid ledger/.test(error.message),
    );
  });
});
