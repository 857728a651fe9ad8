// The jobs program's interface, written by the project from the protocol's facts (account field
// tables, instruction account orders, argument types) and turned into an Anchor IDL (spec 0.1.0)
// so @coral-xyz/anchor's Borsh coder encodes and decodes exactly what the program does.
//
// Why our own IDL instead of fetching one: the on-chain legacy IDL account cannot be updated since
// the program moved to Anchor 1.x, and every published IDL lists `finish`'s accounts in a stale
// order. Enum-like fields (queue type, job state, job type) are declared as raw `u8` because the
// program stores non-ordinal values (Empty = 255, Done = 2, Stopped = 3).
import { createHash } from 'node:crypto';
import type { Idl } from '@coral-xyz/anchor';
import { JOB_ERRORS } from './program-errors.ts';

type FieldType = 'u8' | 'u64' | 'i64' | 'u128' | 'pubkey' | { array: ['u8', 32] } | { vec: 'pubkey' };

interface AccountSlot {
  name: string;
  writable?: boolean;
  signer?: boolean;
  /**
   * A typed account the program writes back (Anchor's `Account<…>`). Anchor 1.0 refuses one
   * pubkey in two such writable slots; payer (`UncheckedAccount`) and authority (`Signer`) slots,
   * and slots marked `dup`, may repeat a key.
   */
  exclusive?: boolean;
}

interface InstructionSpec {
  accounts: readonly AccountSlot[];
  args: readonly { name: string; type: FieldType }[];
}

const W = { writable: true } as const;
const S = { signer: true } as const;
const WS = { writable: true, signer: true } as const;
const WX = { writable: true, exclusive: true } as const;
const WSX = { writable: true, signer: true, exclusive: true } as const;
const HASH32: FieldType = { array: ['u8', 32] };

/** Every instruction the project builds, accounts in on-wire order (PROTOCOL.md §4). */
export const JOBS_INSTRUCTIONS = {
  list: {
    accounts: [
      { name: 'job', ...WSX },
      { name: 'market', ...WX },
      { name: 'run', ...WS },
      { name: 'user', ...WX },
      { name: 'vault', ...WX },
      { name: 'payer', ...WS },
      { name: 'rewardsReflection', ...WX },
      { name: 'rewardsVault', ...WX },
      { name: 'authority', ...S },
      { name: 'rewardsProgram' },
      { name: 'tokenProgram' },
      { name: 'systemProgram' },
    ],
    args: [
      { name: 'ipfsJob', type: HASH32 },
      { name: 'timeout', type: 'i64' },
    ],
  },
  assign: {
    accounts: [
      { name: 'job', ...WSX },
      { name: 'market', ...WX },
      { name: 'run', ...WSX },
      { name: 'node' },
      { name: 'user', ...WX },
      { name: 'vault', ...WX },
      { name: 'payer', ...WS },
      { name: 'rewardsReflection', ...WX },
      { name: 'rewardsVault', ...WX },
      { name: 'authority', ...S },
      { name: 'rewardsProgram' },
      { name: 'tokenProgram' },
      { name: 'systemProgram' },
    ],
    args: [
      { name: 'ipfsJob', type: HASH32 },
      { name: 'timeout', type: 'i64' },
    ],
  },
  delist: {
    accounts: [
      { name: 'job', ...WX },
      { name: 'market', ...WX },
      { name: 'deposit', ...WX },
      { name: 'payer', ...W },
      { name: 'vault', ...WX },
      { name: 'tokenProgram' },
      { name: 'authority', ...WS },
    ],
    args: [],
  },
  extend: {
    accounts: [
      { name: 'job', ...WX },
      { name: 'market' },
      { name: 'user', ...WX },
      { name: 'vault', ...WX },
      { name: 'rewardsReflection', ...WX },
      { name: 'rewardsVault', ...WX },
      { name: 'authority', ...S },
      { name: 'payer', ...S },
      { name: 'rewardsProgram' },
      { name: 'tokenProgram' },
    ],
    args: [{ name: 'timeout', type: 'i64' }],
  },
  end: {
    accounts: [
      { name: 'job', ...WX },
      { name: 'market' },
      { name: 'run', ...WX },
      { name: 'deposit', ...W },
      { name: 'user', ...WX },
      { name: 'vault', ...WX },
      { name: 'payer', ...W },
      { name: 'authority', ...WS },
      { name: 'tokenProgram' },
    ],
    args: [],
  },
  recover: {
    accounts: [
      { name: 'job', ...WX },
      { name: 'market' },
      { name: 'vault', ...WX },
      { name: 'user', ...WX },
      { name: 'payer', ...W },
      { name: 'authority', ...S },
      { name: 'tokenProgram' },
    ],
    args: [],
  },
  work: {
    accounts: [
      { name: 'run', ...WS },
      { name: 'market', ...WX },
      { name: 'payer', ...WS },
      { name: 'stake' },
      { name: 'nft' },
      { name: 'metadata' },
      { name: 'authority', ...S },
      { name: 'systemProgram' },
    ],
    args: [],
  },
  stop: {
    accounts: [{ name: 'market', ...WX }, { name: 'node' }, { name: 'authority', ...S }],
    args: [],
  },
  claim: {
    accounts: [
      { name: 'job', ...WX },
      { name: 'run', ...WSX },
      { name: 'market' },
      { name: 'stake' },
      { name: 'nft' },
      { name: 'metadata' },
      { name: 'payer', ...WS },
      { name: 'authority', ...S },
      { name: 'systemProgram' },
    ],
    args: [],
  },
  finish: {
    // The program's real order: payerRun before payerJob and no `project` (published IDLs are stale).
    accounts: [
      { name: 'job', ...WX },
      { name: 'run', ...WX },
      { name: 'market' },
      { name: 'vault', ...WX },
      { name: 'deposit', ...W },
      { name: 'user', ...WX },
      { name: 'payerRun', ...W },
      { name: 'payerJob', ...W },
      { name: 'authority', ...S },
      { name: 'tokenProgram' },
    ],
    args: [{ name: 'ipfsResult', type: HASH32 }],
  },
  complete: {
    accounts: [
      { name: 'job', ...WX },
      { name: 'authority', ...S },
    ],
    args: [{ name: 'ipfsResult', type: HASH32 }],
  },
  quit: {
    accounts: [
      { name: 'job', ...WX },
      { name: 'run', ...WX },
      { name: 'payer', ...W },
      { name: 'authority', ...S },
    ],
    args: [],
  },
  clean: {
    accounts: [{ name: 'job', ...WX }, { name: 'market' }, { name: 'payer', ...W }],
    args: [],
  },
  open: {
    accounts: [
      { name: 'mint' },
      { name: 'market', ...WSX },
      { name: 'vault', ...WX },
      { name: 'authority', ...WS },
      { name: 'accessKey' },
      { name: 'rent' },
      { name: 'systemProgram' },
      { name: 'tokenProgram' },
    ],
    args: [
      { name: 'jobExpiration', type: 'i64' },
      { name: 'jobPrice', type: 'u64' },
      { name: 'jobTimeout', type: 'i64' },
      { name: 'jobType', type: 'u8' },
      { name: 'nodeXnosMinimum', type: 'u128' },
    ],
  },
  update: {
    accounts: [{ name: 'market', ...WX }, { name: 'accessKey' }, { name: 'authority', ...S }],
    // Argument order differs from `open`: timeout comes last.
    args: [
      { name: 'jobExpiration', type: 'i64' },
      { name: 'jobPrice', type: 'u64' },
      { name: 'jobType', type: 'u8' },
      { name: 'nodeStakeMinimum', type: 'u128' },
      { name: 'jobTimeout', type: 'i64' },
    ],
  },
  close: {
    accounts: [
      { name: 'market', ...WX },
      { name: 'vault', ...WX },
      { name: 'user', ...WX },
      { name: 'authority', ...S },
      { name: 'tokenProgram' },
    ],
    args: [],
  },
} as const satisfies Record<string, InstructionSpec>;

export type JobsInstructionName = keyof typeof JOBS_INSTRUCTIONS;

/** Account structs, fields in declaration (= Borsh) order (PROTOCOL.md §3). */
const JOBS_ACCOUNT_STRUCTS = {
  MarketAccount: [
    ['authority', 'pubkey'],
    ['jobExpiration', 'i64'],
    ['jobPrice', 'u64'],
    ['jobTimeout', 'i64'],
    ['jobType', 'u8'],
    ['vault', 'pubkey'],
    ['vaultBump', 'u8'],
    ['nodeAccessKey', 'pubkey'],
    ['nodeXnosMinimum', 'u128'],
    ['queueType', 'u8'],
    ['queue', { vec: 'pubkey' }],
  ],
  JobAccount: [
    ['ipfsJob', HASH32],
    ['ipfsResult', HASH32],
    ['market', 'pubkey'],
    ['node', 'pubkey'],
    ['payer', 'pubkey'],
    ['price', 'u64'],
    ['project', 'pubkey'],
    ['state', 'u8'],
    ['timeEnd', 'i64'],
    ['timeStart', 'i64'],
    ['timeout', 'i64'],
  ],
  RunAccount: [
    ['job', 'pubkey'],
    ['node', 'pubkey'],
    ['payer', 'pubkey'],
    ['state', 'u8'],
    ['time', 'i64'],
  ],
} as const satisfies Record<string, readonly (readonly [string, FieldType])[]>;

/** The staking program's stake account and the one instruction a node needs (`stake`). */
const STAKE_ACCOUNT_STRUCTS = {
  StakeAccount: [
    ['amount', 'u64'],
    ['authority', 'pubkey'],
    ['duration', 'u64'],
    ['timeUnstake', 'i64'],
    ['vault', 'pubkey'],
    ['vaultBump', 'u8'],
    ['xnos', 'u128'],
  ],
} as const satisfies Record<string, readonly (readonly [string, FieldType])[]>;

export const STAKE_INSTRUCTIONS = {
  stake: {
    accounts: [
      { name: 'mint' },
      { name: 'user', ...W },
      { name: 'vault', ...W },
      { name: 'stake', ...W },
      { name: 'authority', ...WS },
      { name: 'systemProgram' },
      { name: 'tokenProgram' },
      { name: 'rent' },
    ],
    args: [
      { name: 'amount', type: 'u64' },
      { name: 'duration', type: 'u128' },
    ],
  },
} as const satisfies Record<string, InstructionSpec>;

function sighash(namespace: 'global' | 'account', name: string): number[] {
  return [...createHash('sha256').update(`${namespace}:${name}`).digest().subarray(0, 8)];
}

/** Anchor hashes instruction names in snake_case: `payerRun` ↔ `payer_run`. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

function buildIdl(
  name: string,
  address: string,
  instructions: Record<string, InstructionSpec>,
  structs: Record<string, readonly (readonly [string, FieldType])[]>,
  errors: readonly { code: number; name: string; msg: string }[],
): Idl {
  return {
    address,
    metadata: { name, version: '0.1.0', spec: '0.1.0' },
    instructions: Object.entries(instructions).map(([ixName, spec]) => ({
      name: ixName,
      discriminator: sighash('global', snakeCase(ixName)),
      accounts: spec.accounts.map((slot) => ({ name: slot.name, writable: slot.writable ?? false, signer: slot.signer ?? false })),
      args: spec.args.map((arg) => ({ name: arg.name, type: arg.type })),
    })),
    accounts: Object.keys(structs).map((structName) => ({ name: structName, discriminator: sighash('account', structName) })),
    types: Object.entries(structs).map(([structName, fields]) => ({
      name: structName,
      type: { kind: 'struct' as const, fields: fields.map(([field, type]) => ({ name: field, type })) },
    })),
    errors: [...errors],
  } as Idl;
}

/**
 * The IDL for one deployment of the jobs program. The address only matters to Anchor's Program
 * class; the coder is address-independent, so mainnet and devnet share the encoding.
 */
export function jobsIdl(programId: string): Idl {
  return buildIdl('nosana_jobs', programId, JOBS_INSTRUCTIONS, JOBS_ACCOUNT_STRUCTS, JOB_ERRORS);
}

export function stakeIdl(programId: string): Idl {
  return buildIdl('nosana_staking', programId, STAKE_INSTRUCTIONS, STAKE_ACCOUNT_STRUCTS, []);
}

export const ACCOUNT_DISCRIMINATORS = {
  MarketAccount: Buffer.from(sighash('account', 'MarketAccount')),
  JobAccount: Buffer.from(sighash('account', 'JobAccount')),
  RunAccount: Buffer.from(sighash('account', 'RunAccount')),
  StakeAccount: Buffer.from(sighash('account', 'StakeAccount')),
} as const;
