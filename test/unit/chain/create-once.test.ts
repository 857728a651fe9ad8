// Create-once resolution against RPC answers the localnet does not produce on its own: a failure
// seen only at processed commitment, a node that refuses history searches, lamports sent to the job
// address by someone else. The connection is a stand-in answering just the calls made.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair, SystemProgram, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import type { Connection } from '@solana/web3.js';
import { NETWORKS } from '../../../src/chain/addresses.ts';
import { resolvePendingPost, toPendingPost } from '../../../src/chain/create-once.ts';
import { postInstructions } from '../../../src/chain/operations.ts';
import { base58Signature } from '../../../src/chain/transaction-sender.ts';

const NETWORK = NETWORKS.localnet;
const GENESIS = 'LocalGenesis1111111111111111111111111111111';

function signedPost() {
  const [wallet, job, run, market] = [Keypair.generate(), Keypair.generate(), Keypair.generate(), Keypair.generate()];
  const instructions = postInstructions({
    network: NETWORK, market: market.publicKey, marketAccount: { vault: Keypair.generate().publicKey, jobPrice: 10n },
    job: job.publicKey, run: run.publicKey, payer: wallet.publicKey, authority: wallet.publicKey,
    ipfsJob: new Uint8Array(32).fill(1), timeout: 60n,
  });
  const blockhash = Keypair.generate().publicKey.toBase58();
  const transaction = new VersionedTransaction(new TransactionMessage({ payerKey: wallet.publicKey, recentBlockhash: blockhash, instructions }).compileToLegacyMessage());
  transaction.sign([wallet, job, run]);
  return toPendingPost({ transaction, signature: base58Signature(transaction), lastValidBlockHeight: 100, slot: 50 }, job.publicKey, run.publicKey, { genesisHash: GENESIS, preparedSlot: 50 });
}

interface FakeAnswers {
  status?: unknown;
  historyRefused?: boolean;
  account?: unknown;
  height?: number;
}

function fakeConnection(answers: FakeAnswers): Connection {
  return {
    getGenesisHash: async () => GENESIS,
    getSignatureStatuses: async (_signatures: string[], config?: { searchTransactionHistory?: boolean }) => {
      if (config?.searchTransactionHistory === true && answers.historyRefused === true) {
        throw new Error('failed to get signature status: Transaction history is not available from this node');
      }
      return { context: { slot: 1 }, value: [answers.status ?? null] };
    },
    getTransaction: async () => null,
    getAccountInfo: async () => answers.account ?? null,
    getBlockHeight: async () => answers.height ?? 500,
    isBlockhashValid: async () => ({ context: { slot: 1 }, value: false }),
    getSignaturesForAddress: async () => [],
    getFirstAvailableBlock: async () => 0,
  } as unknown as Connection;
}

describe('create-once resolution on unusual RPC answers', () => {
  test('a failure seen only at processed commitment is still pending: its fork may be dropped', async () => {
    const pending = signedPost();
    const outcome = await resolvePendingPost(fakeConnection({ status: { slot: 9, confirmations: 0, err: { InstructionError: [1, { Custom: 1 }] }, confirmationStatus: 'processed' } }), NETWORK, pending);
    assert.equal(outcome.outcome, 'pending');
  });

  test('a failure is final only once finalized: a confirmed one could still be dropped with its fork and replayed', async () => {
    const pending = signedPost();
    const err = { InstructionError: [1, { Custom: 1 }] };
    const confirmed = await resolvePendingPost(fakeConnection({ status: { slot: 9, confirmations: 3, err, confirmationStatus: 'confirmed' } }), NETWORK, pending);
    assert.equal(confirmed.outcome, 'pending');
    const finalized = await resolvePendingPost(fakeConnection({ status: { slot: 9, confirmations: null, err, confirmationStatus: 'finalized' } }), NETWORK, pending);
    assert.equal(finalized.outcome, 'failed');
  });

  test('a node that refuses history searches answers pending before expiry and unknown after it', async () => {
    const pending = signedPost();
    assert.equal((await resolvePendingPost(fakeConnection({ historyRefused: true, height: 90 }), NETWORK, pending)).outcome, 'pending');
    const expired = await resolvePendingPost(fakeConnection({ historyRefused: true, height: 500 }), NETWORK, pending);
    assert.equal(expired.outcome, 'unknown');
  });

  test('lamports someone sent to the job address are not taken for the job', async () => {
    const pending = signedPost();
    const foreign = { lamports: 5_000, owner: SystemProgram.programId, data: Buffer.alloc(0), executable: false };
    assert.equal((await resolvePendingPost(fakeConnection({ account: foreign }), NETWORK, pending)).outcome, 'never-landed');
  });
});
