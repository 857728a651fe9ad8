// Create-once posting. A Nosana job costs money, so a crash at any instant must never produce a
// second job. The protocol:
//   1. prepare: fresh job and run keypairs, a signed transaction, its signature and the last block
//      height at which it can land — a plain object the caller persists BEFORE step 2;
//   2. broadcast: send those bytes (again and again if needed: the cluster de-duplicates them);
//   3. resolve, on every later look: landed / still pending / failed / never landed / unknown.
//
// "Never landed" needs positive evidence: the block height is past lastValidBlockHeight (so the
// bytes can no longer land) AND the cluster's history shows no trace of the signature nor of any
// transaction touching the job address, at finalized commitment. A missing job account is not
// evidence — a job that landed may since have been delisted, recovered or cleaned. When the RPC
// cannot search history the answer is "unknown" and the caller must not post again.
import { PublicKey, VersionedTransaction } from '@solana/web3.js';
import type { Connection } from '@solana/web3.js';
import type { PendingPost, PendingPostOutcome } from './jobs-client.ts';
import { parseProgramError } from './program-errors.ts';
import { base58Signature } from './transaction-sender.ts';
import type { SignedTransaction } from './transaction-sender.ts';

/**
 * How far below lastValidBlockHeight the post could have landed: its blockhash was at most this
 * many blocks old when the post was prepared plus the blockhash lifetime (150 on every cluster).
 */
const LANDING_WINDOW_BLOCKS = 300;

export function toPendingPost(signed: SignedTransaction, job: PublicKey, run: PublicKey, now = new Date()): PendingPost {
  return {
    jobAddress: job.toBase58(),
    runAddress: run.toBase58(),
    signature: signed.signature,
    lastValidBlockHeight: signed.lastValidBlockHeight,
    transaction: Buffer.from(signed.transaction.serialize()).toString('base64'),
    preparedAt: now.toISOString(),
  };
}

/** Checks a persisted pending post is internally consistent before trusting its bytes. */
export function decodePendingPost(pending: PendingPost): VersionedTransaction {
  const transaction = VersionedTransaction.deserialize(Buffer.from(pending.transaction, 'base64'));
  if (base58Signature(transaction) !== pending.signature) {
    throw new Error('pending post is corrupt: its transaction bytes do not carry its recorded signature');
  }
  const keys = transaction.message.staticAccountKeys.map((key) => key.toBase58());
  if (!keys.includes(pending.jobAddress) || !keys.includes(pending.runAddress)) {
    throw new Error('pending post is corrupt: its transaction does not create the recorded job and run accounts');
  }
  return transaction;
}

export async function resolvePendingPost(connection: Connection, pending: PendingPost): Promise<PendingPostOutcome> {
  const status = await signatureStatus(connection, pending.signature);
  if (status !== undefined) return status;

  const job = new PublicKey(pending.jobAddress);
  if ((await connection.getAccountInfo(job, 'confirmed')) !== null) return { outcome: 'landed' };

  const height = await connection.getBlockHeight('finalized');
  if (height <= pending.lastValidBlockHeight) return { outcome: 'pending' };

  let touching: { signature: string; err: unknown; slot: number }[];
  try {
    touching = await connection.getSignaturesForAddress(job, { limit: 10 }, 'finalized');
  } catch (error) {
    return { outcome: 'unknown', reason: `the RPC cannot list the job address's transactions: ${(error as Error).message}` };
  }
  const succeeded = touching.find((entry) => entry.err === null);
  if (succeeded !== undefined) return { outcome: 'landed', slot: succeeded.slot };

  let firstAvailable: number;
  try {
    firstAvailable = await connection.getFirstAvailableBlock();
  } catch (error) {
    return { outcome: 'unknown', reason: `the RPC cannot say how far back its history goes: ${(error as Error).message}` };
  }
  // Slots are never below block heights, so a history starting at or before this height covers
  // every block the post could have landed in.
  if (firstAvailable > Math.max(0, pending.lastValidBlockHeight - LANDING_WINDOW_BLOCKS)) {
    return { outcome: 'unknown', reason: `the RPC's history starts at slot ${firstAvailable}, after the post could have landed` };
  }
  // The status cache could have caught it between our two looks; look once more, now final.
  return (await signatureStatus(connection, pending.signature)) ?? { outcome: 'never-landed' };
}

async function signatureStatus(connection: Connection, signature: string): Promise<PendingPostOutcome | undefined> {
  const { value } = await connection.getSignatureStatuses([signature], { searchTransactionHistory: true });
  const status = value[0];
  if (status === null || status === undefined) return undefined;
  if (status.err !== null) {
    const details = await connection.getTransaction(signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 }).catch(() => null);
    return { outcome: 'failed', error: parseProgramError(details?.meta?.logMessages), detail: JSON.stringify(status.err) };
  }
  if (status.confirmationStatus === 'processed') return { outcome: 'pending' };
  return { outcome: 'landed', slot: status.slot };
}
