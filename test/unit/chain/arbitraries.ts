// fast-check generators for the jobs program's values: keys, hashes, integers at the edges of
// their Borsh widths, and whole accounts.
import fc from 'fast-check';
import { PublicKey } from '@solana/web3.js';
import type { JobAccount, MarketAccount, RunAccount } from '../../../src/chain/accounts.ts';

// Any 32 bytes are a valid address (PDAs are off the curve), so keys need no keypair.
export const publicKey = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => new PublicKey(bytes));
export const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
export const u8 = fc.integer({ min: 0, max: 255 });
export const i64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
export const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
export const u128 = fc.bigInt({ min: 0n, max: 2n ** 128n - 1n });

export const jobAccount: fc.Arbitrary<JobAccount> = fc.record({
  ipfsJob: hash32,
  ipfsResult: hash32,
  market: publicKey,
  node: publicKey,
  payer: publicKey,
  price: u64,
  project: publicKey,
  state: u8,
  timeEnd: i64,
  timeStart: i64,
  timeout: i64,
});

export const runAccount: fc.Arbitrary<RunAccount> = fc.record({
  job: publicKey,
  node: publicKey,
  payer: publicKey,
  state: u8,
  time: i64,
});

/** Queues from empty to well past a few dozen entries (a full queue has its own explicit test). */
export const marketAccount: fc.Arbitrary<MarketAccount> = fc.record({
  authority: publicKey,
  jobExpiration: i64,
  jobPrice: u64,
  jobTimeout: i64,
  jobType: u8,
  vault: publicKey,
  vaultBump: u8,
  nodeAccessKey: publicKey,
  nodeXnosMinimum: u128,
  queueType: u8,
  queue: fc.array(publicKey, { maxLength: 40 }),
});

/** `count` distinct keys (distinct so the builders' duplicate-account guard never trips). */
export function distinctKeys(count: number): fc.Arbitrary<PublicKey[]> {
  return fc.uniqueArray(publicKey, { minLength: count, maxLength: count, selector: (key) => key.toBase58() });
}

/**
 * A form of a decoded value that deep equality can compare: PublicKey's internal BN differs between
 * keys built from bytes and keys decoded from an account, so keys compare by their base58 text.
 */
export function comparable(value: unknown): unknown {
  if (value instanceof PublicKey) return value.toBase58();
  if (value instanceof Uint8Array) return `bytes:${Buffer.from(value).toString('hex')}`;
  if (Array.isArray(value)) return value.map(comparable);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([field, inner]) => [field, comparable(inner)]));
  }
  return value;
}
