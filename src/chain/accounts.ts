// Codecs for the jobs program's accounts (and the staking program's stake account), with the
// project's own types: bigint for every integer that can exceed 2^53, PublicKey for addresses,
// and the raw u8 values the program stores for enum-like fields.
import { BN, BorshCoder } from '@coral-xyz/anchor';
import { PublicKey } from '@solana/web3.js';
import { ACCOUNT_DISCRIMINATORS, jobsIdl, stakeIdl } from './idl.ts';
import { NETWORKS } from './addresses.ts';

/** Raw queue-type values stored in MarketAccount.queueType (not the IDL's ordinals). */
export const QUEUE_TYPE = { job: 0, node: 1, empty: 255 } as const;
/** Raw job states stored in JobAccount.state. Running (1) is never stored: a run account means running. */
export const JOB_STATE = { queued: 0, done: 2, stopped: 3 } as const;
/** JobType 255 marks a disabled market: `list` takes the deposit without queueing the job. */
export const JOB_TYPE_DISABLED = 255;

/** Allocated sizes (8-byte discriminator + the Rust struct's padded size), larger than the Borsh length. */
export const ACCOUNT_SIZES = {
  MarketAccount: 10_224,
  JobAccount: 240,
  RunAccount: 120,
  StakeAccount: 120,
} as const;
/** How many queue entries fit in a market account's allocation. */
export const MARKET_QUEUE_CAPACITY = 314;

/** Byte offsets used by getProgramAccounts filters (PROTOCOL.md §3, §7). */
export const OFFSETS = {
  job: {
    ipfsJob: 8,
    ipfsResult: 40,
    market: 72,
    node: 104,
    payer: 136,
    price: 168,
    project: 176,
    state: 208,
    timeEnd: 209,
    timeStart: 217,
    timeout: 225,
  },
  run: { job: 8, node: 40, payer: 72, state: 104, time: 105 },
  market: { authority: 8, jobPrice: 48, jobType: 64, queueType: 146, queueLength: 147, queue: 151 },
} as const;

export interface MarketAccount {
  authority: PublicKey;
  jobExpiration: bigint;
  jobPrice: bigint;
  jobTimeout: bigint;
  jobType: number;
  vault: PublicKey;
  vaultBump: number;
  nodeAccessKey: PublicKey;
  nodeXnosMinimum: bigint;
  queueType: number;
  queue: PublicKey[];
}

export interface JobAccount {
  ipfsJob: Uint8Array;
  ipfsResult: Uint8Array;
  market: PublicKey;
  node: PublicKey;
  payer: PublicKey;
  price: bigint;
  project: PublicKey;
  state: number;
  timeEnd: bigint;
  timeStart: bigint;
  timeout: bigint;
}

export interface RunAccount {
  job: PublicKey;
  node: PublicKey;
  payer: PublicKey;
  state: number;
  time: bigint;
}

export interface StakeAccount {
  amount: bigint;
  authority: PublicKey;
  duration: bigint;
  timeUnstake: bigint;
  vault: PublicKey;
  vaultBump: number;
  xnos: bigint;
}

export type AccountKind = keyof typeof ACCOUNT_SIZES;

interface KindTypes {
  MarketAccount: MarketAccount;
  JobAccount: JobAccount;
  RunAccount: RunAccount;
  StakeAccount: StakeAccount;
}

// The coder does not depend on the program address; any network's id builds the same layouts.
// The types coder is used (after checking the discriminator ourselves) because it is synchronous:
// the localnet's programs encode accounts inside a synchronous instruction.
const jobsCoder = new BorshCoder(jobsIdl(NETWORKS.mainnet.jobsProgram.toBase58()));
const stakeCoder = new BorshCoder(stakeIdl(NETWORKS.mainnet.stakingProgram.toBase58()));

function coderFor(kind: AccountKind): BorshCoder {
  return kind === 'StakeAccount' ? stakeCoder : jobsCoder;
}

/** Thrown for bytes that are not an account of the expected kind. */
export class AccountDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccountDecodeError';
  }
}

// Anchor's coder hands back BN for u64/i64/u128 and number[] for byte arrays; the project's types
// use bigint and Uint8Array so that no arithmetic on money ever goes through a float.
function fromAnchor(value: unknown): unknown {
  if (BN.isBN(value)) return BigInt((value as BN).toString());
  if (value instanceof PublicKey) return value;
  if (Array.isArray(value)) {
    // Only the fixed 32-byte hashes are number arrays; an empty array is an empty queue.
    return value.length > 0 && value.every((item) => typeof item === 'number') ? Uint8Array.from(value as number[]) : value.map(fromAnchor);
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, fromAnchor(inner)]));
  }
  return value;
}

function toAnchor(value: unknown): unknown {
  if (typeof value === 'bigint') return new BN(value.toString());
  if (value instanceof PublicKey) return value;
  if (value instanceof Uint8Array) return [...value];
  if (Array.isArray(value)) return value.map(toAnchor);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, toAnchor(inner)]));
  }
  return value;
}

/** Decodes account data; throws AccountDecodeError naming the kind and what is wrong. */
export function decodeAccount<K extends AccountKind>(kind: K, data: Uint8Array): KindTypes[K] {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const discriminator = ACCOUNT_DISCRIMINATORS[kind];
  if (bytes.length < 8 || !bytes.subarray(0, 8).equals(discriminator)) {
    throw new AccountDecodeError(`not a ${kind}: the first 8 bytes are not its discriminator ${discriminator.toString('hex')}`);
  }
  if (kind === 'MarketAccount') requireWholeQueue(bytes);
  try {
    return fromAnchor(coderFor(kind).types.decode(kind, bytes.subarray(8))) as KindTypes[K];
  } catch (error) {
    throw new AccountDecodeError(`${kind} data of ${bytes.length} bytes is truncated or malformed: ${(error as Error).message}`);
  }
}

// Borsh reads past the end of a buffer as zero keys instead of failing, so a market's queue
// length is checked against the bytes actually present.
function requireWholeQueue(bytes: Buffer): void {
  const { queueLength, queue } = OFFSETS.market;
  if (bytes.length < queue || queue + 32 * bytes.readUInt32LE(queueLength) > bytes.length) {
    throw new AccountDecodeError(`MarketAccount data of ${bytes.length} bytes is truncated: its queue runs past the end`);
  }
}

/**
 * Encodes an account exactly as the program stores it: discriminator, Borsh fields, then zero
 * padding up to the allocated size.
 */
export function encodeAccount<K extends AccountKind>(kind: K, value: KindTypes[K]): Buffer {
  if (kind === 'MarketAccount' && (value as MarketAccount).queue.length > MARKET_QUEUE_CAPACITY) {
    throw new AccountDecodeError(`a market queue holds at most ${MARKET_QUEUE_CAPACITY} entries`);
  }
  // Anchor's coder encodes into a fixed 1000-byte scratch buffer, too small for a long market
  // queue; the queue is the last field, so it is encoded with an empty queue and written after.
  const queue = kind === 'MarketAccount' ? (value as MarketAccount).queue : [];
  const encodable = kind === 'MarketAccount' ? { ...(value as MarketAccount), queue: [] } : value;
  const fields = coderFor(kind).types.encode(kind, toAnchor(encodable));
  const size = ACCOUNT_SIZES[kind];
  if (fields.length + 8 > size)
    throw new AccountDecodeError(`${kind} encodes to ${fields.length + 8} bytes, over its ${size}-byte allocation`);
  const allocated = Buffer.alloc(size);
  ACCOUNT_DISCRIMINATORS[kind].copy(allocated);
  fields.copy(allocated, 8);
  if (kind === 'MarketAccount') {
    allocated.writeUInt32LE(queue.length, OFFSETS.market.queueLength);
    queue.forEach((key, index) => key.toBuffer().copy(allocated, OFFSETS.market.queue + 32 * index));
  }
  return allocated;
}

/** Which of the jobs program's accounts these bytes are, by discriminator. */
export function accountKindOf(data: Uint8Array): AccountKind | undefined {
  if (data.length < 8) return undefined;
  const head = Buffer.from(data.buffer, data.byteOffset, 8);
  return (Object.keys(ACCOUNT_DISCRIMINATORS) as AccountKind[]).find((kind) => ACCOUNT_DISCRIMINATORS[kind].equals(head));
}
