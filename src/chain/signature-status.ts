// Looking up a transaction's status, with its history where the RPC keeps one. A node without
// transaction history refuses `searchTransactionHistory` with an error instead of answering; its
// status cache (the last ~150 blocks) still answers plain lookups.
import type { Connection, SignatureStatus } from '@solana/web3.js';
import { parseProgramError } from './program-errors.ts';
import type { ParsedProgramError } from './program-errors.ts';

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

/** What a status lookup settles about a signed transaction, whatever the record it belongs to. */
export type SettledOutcome =
  | { outcome: 'landed'; slot: number }
  | { outcome: 'pending' }
  | { outcome: 'failed'; error: ParsedProgramError | undefined; detail: string };

/**
 * A status is positive evidence, whatever node and slot it came from. A processed block may still
 * be dropped with its fork (and the same bytes land elsewhere), so nothing seen only at processed
 * is final; a failure lets the caller sign something new, so it must be beyond any rollback:
 * finalized (a confirmed failure dropped with its fork could be replayed and succeed).
 */
export async function settledOutcome(connection: Connection, signature: string, status: SignatureStatus): Promise<SettledOutcome> {
  if (!isSettled(status)) return { outcome: 'pending' };
  if (status.err === null) return { outcome: 'landed', slot: status.slot };
  return isFinalized(status) ? failedOutcome(connection, signature, status.err) : { outcome: 'pending' };
}

/** A transaction that landed and failed, with the program error its logs name. */
export async function failedOutcome(
  connection: Connection,
  signature: string,
  err: unknown,
): Promise<{ outcome: 'failed'; error: ParsedProgramError | undefined; detail: string }> {
  const details = await connection
    .getTransaction(signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 })
    .catch(() => null);
  return { outcome: 'failed', error: parseProgramError(details?.meta?.logMessages), detail: JSON.stringify(err) };
}

/** The RPC error of a read asked at a minContextSlot the answering backend has not reached. */
const MIN_CONTEXT_SLOT_NOT_REACHED = -32016;

export function isMinContextSlotNotReached(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  return (
    (error as { code?: unknown }).code === MIN_CONTEXT_SLOT_NOT_REACHED ||
    /Minimum context slot has not been reached/i.test(String((error as { message?: unknown }).message))
  );
}

/** The finalized block height and the slot it was seen at, from one bank in one answer. */
export interface FinalizedView {
  height: number;
  observedSlot: number;
  historyAvailable: boolean;
}

/**
 * The shared skeleton of resolving a signed record (a post, a node's ending): its signature's
 * status when there is one; else the finalized height with its slot (asked apart, a height and a
 * slot could come from two backends), handed to `judge`, whose reads must be answered at that
 * slot or later: a backend behind refuses, which reads as pending (it may catch up, or the next
 * request may reach another).
 */
export async function resolveSigned<T>(
  connection: Connection,
  signature: string,
  judge: (view: FinalizedView) => Promise<T>,
): Promise<SettledOutcome | { outcome: 'unknown'; reason: string } | T> {
  const { status, historyAvailable } = await lookupSignature(connection, signature);
  if (status !== undefined) return settledOutcome(connection, signature, status);
  const { blockHeight: height, absoluteSlot: observedSlot } = await connection.getEpochInfo('finalized');
  if (height === undefined)
    return { outcome: 'unknown', reason: 'the RPC reports no block height with its slot, so expiry cannot be judged' };
  try {
    return await judge({ height, observedSlot, historyAvailable });
  } catch (error) {
    if (isMinContextSlotNotReached(error)) return { outcome: 'pending' };
    throw error;
  }
}
