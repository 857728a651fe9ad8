// Create-once resolution against RPC answers the localnet does not produce on its own: a failure
// seen only at processed commitment, a node that refuses history searches, lamports sent to the job
// address by someone else, backends behind the slot the height was read at. The connection is a
// stand-in answering just the calls made.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair, SolanaJSONRPCError, SystemProgram, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
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
    network: NETWORK,
    market: market.publicKey,
    marketAccount: { vault: Keypair.generate().publicKey, jobPrice: 10n },
    job: job.publicKey,
    run: run.publicKey,
    payer: wallet.publicKey,
    authority: wallet.publicKey,
    ipfsJob: new Uint8Array(32).fill(1),
    timeout: 60n,
  });
  const blockhash = Keypair.generate().publicKey.toBase58();
  const transaction = new VersionedTransaction(
    new TransactionMessage({ payerKey: wallet.publicKey, recentBlockhash: blockhash, instructions }).compileToLegacyMessage(),
  );
  transaction.sign([wallet, job, run]);
  return toPendingPost(
    { transaction, signature: base58Signature(transaction), lastValidBlockHeight: 100, slot: 50 },
    job.publicKey,
    run.publicKey,
    { genesisHash: GENESIS, preparedSlot: 50 },
  );
}

interface FakeAnswers {
  status?: unknown;
  historyRefused?: boolean;
  account?: unknown;
  /** The finalized block height; the finalized slot it is read at is the same number. */
  height?: number;
  /** The slot the backend answering reads that take minContextSlot is at (default: height + 32). */
  readSlot?: number;
  /** The slot getSignatureStatuses answers at (default: readSlot). */
  statusSlot?: number;
  /** Every call made, with the minContextSlot it carried. */
  calls?: { method: string; minContextSlot: number | undefined }[];
}

function fakeConnection(answers: FakeAnswers): Connection {
  const height = answers.height ?? 500;
  const readSlot = answers.readSlot ?? height + 32;
  const statusSlot = answers.statusSlot ?? readSlot;
  // As Agave and web3.js: a backend behind the asked slot refuses with -32016.
  const serve = (method: string, config?: { minContextSlot?: number }) => {
    answers.calls?.push({ method, minContextSlot: config?.minContextSlot });
    if (config?.minContextSlot !== undefined && config.minContextSlot > readSlot) {
      throw new SolanaJSONRPCError(
        { code: -32016, message: 'Minimum context slot has not been reached', data: { contextSlot: readSlot } },
        `failed to ${method}`,
      );
    }
  };
  return {
    getGenesisHash: async () => GENESIS,
    getSignatureStatuses: async (_signatures: string[], config?: { searchTransactionHistory?: boolean }) => {
      serve('getSignatureStatuses');
      if (config?.searchTransactionHistory === true && answers.historyRefused === true) {
        throw new Error('failed to get signature status: Transaction history is not available from this node');
      }
      return { context: { slot: statusSlot }, value: [answers.status ?? null] };
    },
    getTransaction: async () => null,
    getEpochInfo: async () => {
      serve('getEpochInfo');
      return { epoch: 0, slotIndex: height, slotsInEpoch: 432_000, absoluteSlot: height, blockHeight: height };
    },
    getAccountInfoAndContext: async (_key: unknown, config?: { minContextSlot?: number }) => {
      serve('getAccountInfo', config);
      return { context: { slot: readSlot }, value: answers.account ?? null };
    },
    isBlockhashValid: async (_blockhash: string, config?: { minContextSlot?: number }) => {
      serve('isBlockhashValid', config);
      return { context: { slot: readSlot }, value: false };
    },
    getSignaturesForAddress: async (_address: unknown, options?: { minContextSlot?: number }) => {
      serve('getSignaturesForAddress', options);
      return [];
    },
    getFirstAvailableBlock: async () => 0,
  } as unknown as Connection;
}

describe('create-once resolution on unusual RPC answers', () => {
  test('a failure seen only at processed commitment is still pending: its fork may be dropped', async () => {
    const pending = signedPost();
    const outcome = await resolvePendingPost(
      fakeConnection({
        status: { slot: 9, confirmations: 0, err: { InstructionError: [1, { Custom: 1 }] }, confirmationStatus: 'processed' },
      }),
      NETWORK,
      pending,
    );
    assert.equal(outcome.outcome, 'pending');
  });

  test('a failure is final only once finalized: a confirmed one could still be dropped with its fork and replayed', async () => {
    const pending = signedPost();
    const err = { InstructionError: [1, { Custom: 1 }] };
    const confirmed = await resolvePendingPost(
      fakeConnection({ status: { slot: 9, confirmations: 3, err, confirmationStatus: 'confirmed' } }),
      NETWORK,
      pending,
    );
    assert.equal(confirmed.outcome, 'pending');
    const finalized = await resolvePendingPost(
      fakeConnection({ status: { slot: 9, confirmations: null, err, confirmationStatus: 'finalized' } }),
      NETWORK,
      pending,
    );
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

describe('create-once judges "never landed" from one consistent view', () => {
  test('every read after the height carries minContextSlot: the slot the height was read at', async () => {
    const calls: NonNullable<FakeAnswers['calls']> = [];
    const outcome = await resolvePendingPost(fakeConnection({ height: 500, calls }), NETWORK, signedPost());
    assert.equal(outcome.outcome, 'never-landed');
    const afterHeight = calls.slice(calls.findIndex((call) => call.method === 'getEpochInfo') + 1);
    const constrained = afterHeight.filter((call) => call.method !== 'getSignatureStatuses');
    assert.deepEqual(
      constrained.map((call) => call.method),
      ['getAccountInfo', 'isBlockhashValid', 'getSignaturesForAddress'],
    );
    assert.ok(
      constrained.every((call) => call.minContextSlot === 500),
      JSON.stringify(constrained),
    );
  });

  test('a backend behind the observed slot refuses (-32016): pending, not never-landed', async () => {
    const outcome = await resolvePendingPost(fakeConnection({ height: 500, readSlot: 480 }), NETWORK, signedPost());
    assert.equal(outcome.outcome, 'pending');
  });

  test('a signature status answered from before the observed slot proves nothing: pending', async () => {
    // getSignatureStatuses takes no minContextSlot; its context slot is all there is to check.
    const outcome = await resolvePendingPost(fakeConnection({ height: 500, statusSlot: 480 }), NETWORK, signedPost());
    assert.equal(outcome.outcome, 'pending');
  });
});
