// Looking up a transaction's status, with its history where the RPC keeps one. A node without
// transaction history refuses `searchTransactionHistory` with an error instead of answering; its
// status cache (the last ~150 blocks) still answers plain lookups.
import type { Connection, SignatureStatus } from '@solana/web3.js';

const HISTORY_UNAVAILABLE = /history is not available|-32011|TransactionHistoryNotAvailable/i;

export interface SignatureLookup {
  status: SignatureStatus | undefined;
  /** False when the RPC refused to search its history (only its recent status cache was asked). */
  historyAvailable: boolean;
  /**
   * The slot the answer was given at. getSignatureStatuses takes no minContextSlot, so a caller
   * that needs an answer at least as recent as some slot compares this instead.
   */
  contextSlot: number;
}

export async function lookupSignature(connection: Connection, signature: string): Promise<SignatureLookup> {
  try {
    const { context, value } = await connection.getSignatureStatuses([signature], { searchTransactionHistory: true });
    return { status: value[0] ?? undefined, historyAvailable: true, contextSlot: context.slot };
  } catch (error) {
    if (!HISTORY_UNAVAILABLE.test((error as Error).message)) throw error;
    const { context, value } = await connection.getSignatureStatuses([signature]);
    return { status: value[0] ?? undefined, historyAvailable: false, contextSlot: context.slot };
  }
}

/** Seen at confirmed or finalized (a processed block may still be dropped with its fork). */
export function isSettled(status: SignatureStatus): boolean {
  // RPCs that omit confirmationStatus report a rooted transaction with `confirmations: null`.
  return (
    status.confirmationStatus === 'confirmed' ||
    status.confirmationStatus === 'finalized' ||
    (status.confirmationStatus === undefined && status.confirmations === null)
  );
}

/** Rooted: no fork can drop it any more. */
export function isFinalized(status: SignatureStatus): boolean {
  return status.confirmationStatus === 'finalized' || (status.confirmationStatus === undefined && status.confirmations === null);
}
