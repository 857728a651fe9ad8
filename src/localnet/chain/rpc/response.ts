// Pieces of RPC answers shared by every method group: the identity the localnet reports and the
// `{ context, value }` envelope.
import type { LocalChain } from '../chain.ts';

/** Identifies the node as the localnet (clients may check it before spending anything real). */
export const LOCALNET_SOLANA_CORE_VERSION = '2.2.0-nosana-localnet';
/** A feature-set id no real cluster reports. */
export const LOCALNET_FEATURE_SET = 0;

export function withContext<T>(chain: LocalChain, value: T, slot: number = chain.slot) {
  return { context: { slot, apiVersion: LOCALNET_SOLANA_CORE_VERSION }, value };
}
