// Values decoded by different clients (the project's decoder, Anchor 0.28 inside Nosana's SDK,
// Anchor 0.32) put in one vocabulary so a test can compare them: bigint for BN integers, base58
// for public keys, number[] for bytes, recursively.
import { BN } from '@coral-xyz/anchor';
import { PublicKey } from '@solana/web3.js';

export function comparable(value: unknown): unknown {
  if (BN.isBN(value)) return BigInt((value as BN).toString());
  if (value instanceof PublicKey) return value.toBase58();
  if (value instanceof Uint8Array) return [...value];
  if (Array.isArray(value)) return value.map(comparable);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, comparable(inner)]));
  }
  return value;
}
