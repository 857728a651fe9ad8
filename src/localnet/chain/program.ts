// The contract between the localnet's transaction processor and the programs it runs.
//
// Built-in programs (System, ComputeBudget, SPL Token, Associated Token) and the Nosana programs
// (jobs, staking) implement `LocalProgram`. The processor gives each instruction a
// `ProgramContext` whose reads and writes are staged for the whole transaction: a transaction
// either commits every write or none, as on Solana.
//
// Failure logs (decided here so every program agrees): when an instruction throws a
// ProgramFailure, the processor logs `Program log: <line>` with the line the failing program's
// `failureLog` returns, then `Program <id> failed: custom program error: 0x<code>`. A program that
// leaves `failureLog` out gets Anchor's line (`AnchorError occurred. Error Code: <Name>. Error
// Number: <n>. Error Message: <msg>.`, see anchor-error-log.ts), which is what the Nosana Anchor
// programs print; the SPL and System built-ins supply their own wording.
import type { PublicKey } from '@solana/web3.js';

/** One account as the ledger stores it. `data` is the exact on-chain byte layout. */
export interface LedgerAccount {
  lamports: bigint;
  owner: PublicKey;
  data: Buffer;
  executable: boolean;
}

/** An account as an instruction lists it, with the flags the transaction message gave it. */
export interface InstructionAccount {
  pubkey: PublicKey;
  isSigner: boolean;
  isWritable: boolean;
}

/**
 * A program failed. `errorName` is what clients parse from the logs (numeric codes collide across
 * Nosana's error enums, names do not); `errorCode` is the number reported as a custom program error.
 * `account` names the instruction account that caused it, when there is one (Anchor logs it).
 */
export class ProgramFailure extends Error {
  readonly errorName: string;
  readonly errorCode: number;
  readonly account: string | undefined;

  constructor(errorName: string, errorCode: number, message: string, account?: string) {
    super(message);
    this.name = 'ProgramFailure';
    this.errorName = errorName;
    this.errorCode = errorCode;
    this.account = account;
  }
}

/**
 * The runtime refused an instruction for a reason Solana reports as a built-in `InstructionError`
 * variant rather than a custom code (e.g. `ReadonlyDataModified`, `MissingRequiredSignature`,
 * `PrivilegeEscalation`). `variant` is the name clients see in `{ InstructionError: [i, variant] }`;
 * `message` names the account or field at fault and is logged as a runtime line, as Solana's
 * runtime does. Programs may throw it too (e.g. `InvalidInstructionData`, `NotEnoughAccountKeys`).
 */
export class InstructionFault extends Error {
  readonly variant: string;

  constructor(variant: string, message: string) {
    super(message);
    this.name = 'InstructionFault';
    this.variant = variant;
  }
}

export interface ClockView {
  slot: bigint;
  /** Unix seconds, as the Clock sysvar reports them. */
  unixTimestamp: bigint;
}

export interface ProgramContext {
  readonly programId: PublicKey;
  readonly accounts: readonly InstructionAccount[];
  readonly data: Buffer;
  readonly clock: ClockView;
  /**
   * Staged state of an account, or undefined when it does not exist (no lamports, no data). Returns
   * a copy: changing it changes nothing until `set`. As on Solana, only accounts of this
   * instruction can be read (InstructionFault `MissingAccount` otherwise).
   */
  get(pubkey: PublicKey): LedgerAccount | undefined;
  /**
   * Stage a write; setting `undefined` closes the account (0 lamports, no data, System-owned).
   * Throws an InstructionFault with Solana's variant when the account is not an account of this
   * instruction, is not writable, when a program that does not own it changes its data or owner or
   * debits its lamports, or when the new owner is given non-zeroed data. When the instruction ends,
   * the lamports of its accounts must sum as before (`UnbalancedInstruction`); when the transaction
   * ends, every account it touched must be rent exempt or closed (`InsufficientFundsForRent`; an
   * account that was already below the minimum may stay so if its size is unchanged and it gained
   * nothing).
   */
  set(pubkey: PublicKey, account: LedgerAccount | undefined): void;
  /** Appends "Program log: <message>" to the transaction's logs. */
  log(message: string): void;
  /** Charge compute units; the transaction fails when it exceeds its limit. */
  consume(units: number): void;
  /**
   * Cross-program invocation with the same staged state. The callee program and every account
   * must be accounts of the calling instruction; signer and writable flags cannot exceed the
   * caller's (`PrivilegeEscalation`), except that `pdaSigners` become signers. Simplification: the
   * processor cannot see the seeds, so it accepts any off-curve address as a PDA the caller signs
   * for. A failed invocation fails the whole transaction, even if the caller catches the error.
   */
  invoke(programId: PublicKey, accounts: readonly InstructionAccount[], data: Buffer, pdaSigners?: readonly PublicKey[]): void;
  /** Lamports an account of `size` bytes needs to be rent exempt. */
  rentExemptMinimum(size: number): bigint;
}

export interface LocalProgram {
  readonly programId: PublicKey;
  /** Names the program in registry errors (e.g. two programs registered at one address). */
  readonly name: string;
  /**
   * Run one instruction; throw ProgramFailure, InstructionFault or any other Error (reported as
   * `ProgramFailedToComplete`) to fail the whole transaction.
   */
  execute(ctx: ProgramContext): void;
  /**
   * The `Program log:` line printed when this program fails with `failure`, or undefined for none.
   * Defaults to Anchor's AnchorError line.
   */
  failureLog?(failure: ProgramFailure): string | undefined;
}
