// What Anchor gives the Nosana programs for free, re-created for the localnet's TypeScript
// programs: accounts by slot name, signer/writable/owner/discriminator checks that fail with
// Anchor's error names, typed account loads and stores, and the System / SPL Token calls the
// programs make through cross-program invocation.
import type { PublicKey } from '@solana/web3.js';
import { SystemProgram } from '@solana/web3.js';
import {
  TOKEN_PROGRAM_ID,
  createCloseAccountInstruction,
  createInitializeAccount3Instruction,
  createTransferInstruction,
  unpackAccount,
} from '@solana/spl-token';
import type { Account as TokenAccount } from '@solana/spl-token';
import { ACCOUNT_SIZES, AccountDecodeError, decodeAccount, encodeAccount } from '../../chain/accounts.ts';
import type { AccountKind } from '../../chain/accounts.ts';
import { ANCHOR_ERRORS } from '../../chain/program-errors.ts';
import type { ProgramErrorInfo } from '../../chain/program-errors.ts';
import { InstructionFault, ProgramFailure } from '../chain/program.ts';
import type { InstructionAccount, LedgerAccount, ProgramContext } from '../chain/program.ts';

export interface SlotSpec {
  name: string;
  writable?: boolean;
  signer?: boolean;
  /** Anchor 1.0: a typed account that may not share its key with another exclusive slot. */
  exclusive?: boolean;
}

/** One instruction being executed: its accounts by slot name, and the program's error table. */
export class AnchorInstruction {
  readonly ctx: ProgramContext;
  private readonly slots: Map<string, InstructionAccount>;
  private readonly errors: readonly ProgramErrorInfo[];

  constructor(ctx: ProgramContext, slots: readonly SlotSpec[], errors: readonly ProgramErrorInfo[]) {
    this.ctx = ctx;
    this.errors = errors;
    if (ctx.accounts.length < slots.length) {
      throw this.failure('AccountNotEnoughKeys');
    }
    this.slots = new Map(slots.map((slot, index) => [slot.name, ctx.accounts[index] as InstructionAccount]));
    for (const slot of slots) {
      const account = this.slots.get(slot.name) as InstructionAccount;
      if (slot.signer === true && !account.isSigner) throw this.failure('ConstraintSigner', slot.name);
      if (slot.writable === true && !account.isWritable) throw this.failure('ConstraintMut', slot.name);
    }
    this.requireDistinct(slots.filter((slot) => slot.exclusive === true).map((slot) => slot.name));
  }

  /** A ProgramFailure with the program's (or Anchor's) number for `name`. */
  failure(name: string, account?: string): ProgramFailure {
    const info = [...this.errors, ...ANCHOR_ERRORS].find((candidate) => candidate.name === name);
    if (info === undefined) throw new Error(`localnet program bug: unknown error name ${name}`);
    return new ProgramFailure(info.name, info.code, info.msg, account);
  }

  key(slot: string): PublicKey {
    const account = this.slots.get(slot);
    if (account === undefined) throw new Error(`localnet program bug: no slot ${slot}`);
    return account.pubkey;
  }

  require(condition: boolean, errorName: string, account?: string): void {
    if (!condition) throw this.failure(errorName, account);
  }

  /** Anchor 1.0 refuses one pubkey in two mutable typed-account slots. */
  private requireDistinct(slots: readonly string[]): void {
    const seen = new Map<string, string>();
    for (const slot of slots) {
      const key = this.key(slot).toBase58();
      if (seen.has(key)) throw this.failure('ConstraintDuplicateMutableAccount', slot);
      seen.set(key, slot);
    }
  }

  /** Loads a program-owned account of `kind` from `slot`, with Anchor's checks. */
  load<K extends AccountKind>(slot: string, kind: K, owner: PublicKey = this.ctx.programId): ReturnType<typeof decodeAccount<K>> {
    const account = this.ctx.get(this.key(slot));
    if (account === undefined || account.data.length === 0) throw this.failure('AccountNotInitialized', slot);
    if (!account.owner.equals(owner)) throw this.failure('AccountOwnedByWrongProgram', slot);
    try {
      return decodeAccount(kind, account.data);
    } catch (error) {
      if (error instanceof AccountDecodeError) throw this.failure('AccountDiscriminatorMismatch', slot);
      throw error;
    }
  }

  store<K extends AccountKind>(slot: string, kind: K, value: Parameters<typeof encodeAccount<K>>[1]): void {
    const pubkey = this.key(slot);
    const current = this.ctx.get(pubkey);
    if (current === undefined) throw new Error(`localnet program bug: storing into missing account ${slot}`);
    let data: Buffer;
    try {
      data = encodeAccount(kind, value);
    } catch {
      // A market whose queue outgrew its allocation fails to serialize, as on chain.
      throw this.failure('AccountDidNotSerialize', slot);
    }
    this.ctx.set(pubkey, { ...current, data });
  }

  /**
   * Anchor's `init`: creates a program-owned account of `kind` at `slot`, rent paid by `payerSlot`.
   * An address that already holds lamports (anyone may send some to it) cannot be created with
   * createAccount, so Anchor tops its rent up and allocates and assigns it instead; the System
   * program refuses an address that already has data or another owner ("already in use").
   */
  create<K extends AccountKind>(slot: string, kind: K, payerSlot: string, value: Parameters<typeof encodeAccount<K>>[1]): void {
    const pubkey = this.key(slot);
    const payer = this.key(payerSlot);
    const space = ACCOUNT_SIZES[kind];
    const rent = this.ctx.rentExemptMinimum(space);
    // A keypair account signed the transaction; a PDA (a stake account) is signed for by this program.
    const pdaSigners = this.slots.get(slot)?.isSigner === true ? [] : [pubkey];
    const funded = this.ctx.get(pubkey)?.lamports ?? 0n;
    if (funded === 0n) {
      this.invoke(
        SystemProgram.createAccount({
          fromPubkey: payer,
          newAccountPubkey: pubkey,
          lamports: Number(rent),
          space,
          programId: this.ctx.programId,
        }),
        pdaSigners,
      );
    } else {
      if (funded < rent) this.invoke(SystemProgram.transfer({ fromPubkey: payer, toPubkey: pubkey, lamports: rent - funded }));
      this.invoke(SystemProgram.allocate({ accountPubkey: pubkey, space }), pdaSigners);
      this.invoke(SystemProgram.assign({ accountPubkey: pubkey, programId: this.ctx.programId }), pdaSigners);
    }
    this.store(slot, kind, value);
  }

  /** Closes a program-owned account, sending its rent to `destinationSlot`'s account. */
  close(slot: string, destinationSlot: string): void {
    const pubkey = this.key(slot);
    const destination = this.key(destinationSlot);
    const account = this.ctx.get(pubkey);
    if (account === undefined) return;
    const receiver = this.ctx.get(destination) ?? emptySystemAccount();
    this.ctx.set(destination, { ...receiver, lamports: receiver.lamports + account.lamports });
    this.ctx.set(pubkey, undefined);
  }

  /** Reads an SPL token account, or fails with the slot's name. */
  tokenAccount(slot: string): TokenAccount {
    const pubkey = this.key(slot);
    const account = this.ctx.get(pubkey);
    if (account === undefined || !account.owner.equals(TOKEN_PROGRAM_ID)) throw this.failure('AccountNotInitialized', slot);
    return unpackAccount(pubkey, {
      ...account,
      lamports: Number(account.lamports),
      data: account.data,
      owner: account.owner,
      executable: account.executable,
      rentEpoch: 0,
    });
  }

  /** SPL transfer; `signedByPda` when the source's authority is a PDA of this program (the vault). */
  transfer(fromSlot: string, toSlot: string, authority: PublicKey, amount: bigint, signedByPda = false): void {
    if (amount === 0n) return;
    this.invoke(createTransferInstruction(this.key(fromSlot), this.key(toSlot), authority, amount), signedByPda ? [authority] : []);
  }

  /** Creates a token account at a PDA owned by itself (a vault), rent paid by `payerSlot`. */
  createSelfOwnedTokenAccount(slot: string, mint: PublicKey, payerSlot: string): void {
    const vault = this.key(slot);
    this.invoke(
      SystemProgram.createAccount({
        fromPubkey: this.key(payerSlot),
        newAccountPubkey: vault,
        lamports: Number(this.ctx.rentExemptMinimum(165)),
        space: 165,
        programId: TOKEN_PROGRAM_ID,
      }),
      [vault],
    );
    this.invoke(createInitializeAccount3Instruction(vault, mint, vault));
  }

  closeTokenAccount(slot: string, destination: PublicKey, authority: PublicKey): void {
    const account = this.key(slot);
    this.invoke(createCloseAccountInstruction(account, destination, authority), [authority]);
  }

  private invoke(instruction: { programId: PublicKey; keys: InstructionAccount[]; data: Buffer }, pdaSigners: PublicKey[] = []): void {
    this.ctx.invoke(instruction.programId, instruction.keys, instruction.data, pdaSigners);
  }
}

/**
 * A Rust panic in the program (an overflow check, an `unwrap()` on an error): Solana reports it as
 * ProgramFailedToComplete, after the program's "panicked at" log line.
 */
export function programPanic(message: string): InstructionFault {
  return new InstructionFault('ProgramFailedToComplete', `Program log: panicked: ${message}`);
}

function emptySystemAccount(): LedgerAccount {
  return { lamports: 0n, owner: SystemProgram.programId, data: Buffer.alloc(0), executable: false };
}

/** Anchor logs the instruction's name in PascalCase before running it. */
export function logInstruction(ctx: ProgramContext, name: string): void {
  ctx.log(`Instruction: ${name.charAt(0).toUpperCase()}${name.slice(1)}`);
}
