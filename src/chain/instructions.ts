// Instruction builders for the jobs and staking programs: Anchor's Borsh coder encodes the data
// from the project's IDL, and the account metas come from the same IDL in on-wire order, with
// every account required by name (like Anchor's `accountsStrict`).
import { BN, BorshInstructionCoder } from '@coral-xyz/anchor';
import { TransactionInstruction } from '@solana/web3.js';
import type { PublicKey } from '@solana/web3.js';
import { JOBS_INSTRUCTIONS, STAKE_INSTRUCTIONS, jobsIdl, stakeIdl } from './idl.ts';
import type { JobsInstructionName } from './idl.ts';
import type { NosanaNetwork } from './addresses.ts';

type Specs = typeof JOBS_INSTRUCTIONS & typeof STAKE_INSTRUCTIONS;
type ArgValue<T> = T extends 'u8' ? number : T extends { array: unknown } ? Uint8Array : bigint;

export type InstructionAccounts<N extends keyof Specs> = Record<Specs[N]['accounts'][number]['name'], PublicKey>;
export type InstructionArgs<N extends keyof Specs> = {
  [A in Specs[N]['args'][number] as A['name']]: ArgValue<A['type']>;
};

const instructionCoders = new Map<string, BorshInstructionCoder>();

function coderFor(kind: 'jobs' | 'stake'): BorshInstructionCoder {
  let coder = instructionCoders.get(kind);
  if (coder === undefined) {
    // The coder does not depend on the program address.
    coder = new BorshInstructionCoder(
      kind === 'jobs' ? jobsIdl('11111111111111111111111111111111') : stakeIdl('11111111111111111111111111111111'),
    );
    instructionCoders.set(kind, coder);
  }
  return coder;
}

function toAnchorArg(value: unknown): unknown {
  if (typeof value === 'bigint') return new BN(value.toString());
  if (value instanceof Uint8Array) return [...value];
  return value;
}

function build<N extends keyof Specs>(
  kind: 'jobs' | 'stake',
  programId: PublicKey,
  name: N,
  accounts: InstructionAccounts<N>,
  args: InstructionArgs<N>,
): TransactionInstruction {
  const spec = (kind === 'jobs' ? JOBS_INSTRUCTIONS : STAKE_INSTRUCTIONS)[name as never] as {
    accounts: readonly { name: string; writable?: boolean; signer?: boolean; exclusive?: boolean }[];
    args: readonly { name: string }[];
  };
  const given = accounts as Record<string, PublicKey | undefined>;
  const keys = spec.accounts.map((slot) => {
    const pubkey = given[slot.name];
    if (pubkey === undefined) throw new Error(`${String(name)}: account "${slot.name}" is required`);
    return { pubkey, isWritable: slot.writable === true, isSigner: slot.signer === true };
  });
  // Anchor 1.0 refuses one pubkey in two exclusive slots; refuse it here rather than pay a fee
  // for a transaction that must fail.
  const writableSeen = new Map<string, string>();
  for (const [index, key] of keys.entries()) {
    const slotName = spec.accounts[index]?.name ?? '';
    if (spec.accounts[index]?.exclusive !== true) continue;
    const previous = writableSeen.get(key.pubkey.toBase58());
    if (previous !== undefined) {
      throw new Error(
        `${String(name)}: "${previous}" and "${slotName}" are the same account; the program rejects one account in two writable slots`,
      );
    }
    writableSeen.set(key.pubkey.toBase58(), slotName);
  }
  const encodedArgs = Object.fromEntries(spec.args.map((arg) => [arg.name, toAnchorArg((args as Record<string, unknown>)[arg.name])]));
  const data = coderFor(kind).encode(String(name), encodedArgs);
  return new TransactionInstruction({ programId, keys, data });
}

export function jobsInstruction<N extends JobsInstructionName>(
  network: NosanaNetwork,
  name: N,
  accounts: InstructionAccounts<N>,
  args: InstructionArgs<N>,
): TransactionInstruction {
  return build('jobs', network.jobsProgram, name, accounts, args);
}

export function stakeInstruction(
  network: NosanaNetwork,
  accounts: InstructionAccounts<'stake'>,
  args: InstructionArgs<'stake'>,
): TransactionInstruction {
  return build('stake', network.stakingProgram, 'stake', accounts, args);
}

export interface DecodedInstruction {
  name: string;
  args: Record<string, unknown>;
}

/** Decodes jobs-program instruction data into its name and arguments (bigint / Uint8Array). */
export function decodeJobsInstruction(data: Uint8Array): DecodedInstruction | undefined {
  return decodeWith('jobs', data);
}

export function decodeStakeInstruction(data: Uint8Array): DecodedInstruction | undefined {
  return decodeWith('stake', data);
}

function decodeWith(kind: 'jobs' | 'stake', data: Uint8Array): DecodedInstruction | undefined {
  const decoded = coderFor(kind).decode(Buffer.from(data));
  if (decoded === null) return undefined;
  const args = Object.fromEntries(
    Object.entries(decoded.data as Record<string, unknown>).map(([key, value]) => {
      if (BN.isBN(value)) return [key, BigInt((value as BN).toString())];
      if (Array.isArray(value)) return [key, Uint8Array.from(value as number[])];
      return [key, value];
    }),
  );
  return { name: decoded.name, args };
}
