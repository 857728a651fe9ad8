// Runs one top-level instruction and the cross-program invocations it makes, enforcing the
// account rules Solana's runtime enforces (privileges, ownership, lamport balance, compute) and
// writing Solana's log lines. All frames share the transaction's staged state.
import { PublicKey } from '@solana/web3.js';
import bs58 from 'bs58';
import { SYSTEM_PROGRAM_ID } from './addresses.ts';
import { anchorErrorLog } from './anchor-error-log.ts';
import type { RuntimeContext, RuntimeProgram } from './builtins/runtime-program.ts';
import { InstructionFault, ProgramFailure, type ClockView, type InstructionAccount, type LedgerAccount } from './program.ts';
import { MAX_ACCOUNT_DATA_LENGTH, rentExemptMinimum } from './rent.ts';
import type { StagedAccounts } from './staged-accounts.ts';
import { describeInstructionError, type InstructionErrorJson } from './transaction-errors.ts';

/** Solana's limit on the instruction stack (a top-level instruction is height 1). */
const MAX_STACK_HEIGHT = 5;
/** Units a cross-program invocation costs the caller. */
const INVOKE_UNITS = 1000;
/** Solana stops collecting logs past 10 000 bytes. */
const LOG_BYTES_LIMIT = 10_000;

export class ComputeMeter {
  #remaining: number;

  constructor(limit: number) {
    this.#remaining = limit;
  }

  get remaining(): number {
    return this.#remaining;
  }

  /** Returns false (and drains the meter) when the units exceed what is left. */
  consume(units: number): boolean {
    if (units > this.#remaining) {
      this.#remaining = 0;
      return false;
    }
    this.#remaining -= units;
    return true;
  }
}

export class LogCollector {
  readonly lines: string[] = [];
  #bytes = 0;
  #truncated = false;

  push(line: string): void {
    if (this.#truncated) return;
    this.#bytes += Buffer.byteLength(line);
    if (this.#bytes > LOG_BYTES_LIMIT) {
      this.#truncated = true;
      this.lines.push('Log truncated');
      return;
    }
    this.lines.push(line);
  }
}

export interface InnerInstruction {
  programIdIndex: number;
  accounts: number[];
  /** base58, as getTransaction reports it. */
  data: string;
  stackHeight: number;
}

export interface InvocationEnvironment {
  state: StagedAccounts;
  clock: ClockView;
  meter: ComputeMeter;
  logs: LogCollector;
  findProgram(programId: string): RuntimeProgram | undefined;
  /** Index of an address in the transaction's account keys (for inner-instruction records). */
  accountIndex(address: string): number;
}

interface Frame {
  program: RuntimeProgram;
  programId: string;
  accounts: readonly InstructionAccount[];
  /** State of each account when the frame started, refreshed after each invocation it makes. */
  pre: Map<string, LedgerAccount>;
  lamportsAtStart: bigint;
}

/** Thrown through the frames above a failed one; its error is already logged. */
class FrameFailed extends Error {
  readonly error: InstructionErrorJson;

  constructor(error: InstructionErrorJson) {
    super(describeInstructionError(error));
    this.error = error;
  }
}

const EMPTY_ACCOUNT: LedgerAccount = { lamports: 0n, owner: SYSTEM_PROGRAM_ID, data: Buffer.alloc(0), executable: false };

function isCustomErrorCode(code: number): boolean {
  return Number.isInteger(code) && code >= 0 && code <= 0xffff_ffff;
}

function isEmpty(account: LedgerAccount): boolean {
  return account.lamports === 0n && account.data.length === 0 && account.owner.equals(SYSTEM_PROGRAM_ID) && !account.executable;
}

export class InstructionRunner {
  readonly #env: InvocationEnvironment;
  readonly #stack: Frame[] = [];
  readonly innerInstructions: InnerInstruction[] = [];
  // The first fault a context raised: it fails the instruction even if the program caught it,
  // since on Solana a runtime refusal (or failed invocation) cannot be caught by the program.
  #raised: Error | undefined;
  #failure: InstructionErrorJson | undefined;

  constructor(env: InvocationEnvironment) {
    this.#env = env;
  }

  /** Runs a top-level instruction; returns its error, or undefined when it succeeded. */
  run(program: RuntimeProgram, accounts: readonly InstructionAccount[], data: Buffer): InstructionErrorJson | undefined {
    try {
      this.#runFrame(program, accounts, data);
      return undefined;
    } catch (error) {
      if (error instanceof FrameFailed) return error.error;
      throw error;
    }
  }

  #runFrame(program: RuntimeProgram, accounts: readonly InstructionAccount[], data: Buffer): void {
    const { logs, meter } = this.#env;
    const programId = program.programId.toBase58();
    logs.push(`Program ${programId} invoke [${this.#stack.length + 1}]`);
    const unitsAtStart = meter.remaining;
    const pre = new Map<string, LedgerAccount>();
    for (const account of accounts) {
      const key = account.pubkey.toBase58();
      if (!pre.has(key)) pre.set(key, this.#env.state.read(key) ?? EMPTY_ACCOUNT);
    }
    const frame: Frame = { program, programId, accounts, pre, lamportsAtStart: this.#sumLamports(pre.keys()) };
    this.#stack.push(frame);
    try {
      program.execute(this.#contextFor(frame, data));
      if (this.#raised || this.#failure !== undefined) throw this.#raised ?? new FrameFailed(this.#failure as InstructionErrorJson);
      const lamportsNow = this.#sumLamports(pre.keys());
      if (lamportsNow !== frame.lamportsAtStart) {
        throw new InstructionFault(
          'UnbalancedInstruction',
          `${programId}: lamports of the instruction's accounts went from ${frame.lamportsAtStart} to ${lamportsNow}`,
        );
      }
    } catch (error) {
      const failure = this.#settle(error, program);
      this.#logConsumed(program, unitsAtStart);
      logs.push(`Program ${programId} failed: ${describeInstructionError(failure)}`);
      throw new FrameFailed(failure);
    } finally {
      this.#stack.pop();
    }
    this.#logConsumed(program, unitsAtStart);
    logs.push(`Program ${programId} success`);
  }

  // Converts what a frame threw into the instruction error and logs the program's own failure line.
  #settle(thrown: unknown, program: RuntimeProgram): InstructionErrorJson {
    if (this.#failure !== undefined) return this.#failure;
    const error = this.#raised ?? thrown;
    let failure: InstructionErrorJson;
    if (error instanceof ProgramFailure && !isCustomErrorCode(error.errorCode)) {
      this.#env.logs.push(`Program log: panicked: ${error.errorName} has error code ${error.errorCode}, which is not a u32`);
      failure = 'ProgramFailedToComplete';
    } else if (error instanceof ProgramFailure) {
      const line = program.failureLog ? program.failureLog(error) : anchorErrorLog(error);
      if (line !== undefined) this.#env.logs.push(`Program log: ${line}`);
      failure = { Custom: error.errorCode };
    } else if (error instanceof InstructionFault) {
      if (error.message) this.#env.logs.push(error.message);
      failure = error.variant;
    } else {
      this.#env.logs.push(`Program log: panicked: ${error instanceof Error ? error.message : String(error)}`);
      failure = 'ProgramFailedToComplete';
    }
    this.#failure = failure;
    return failure;
  }

  #logConsumed(program: RuntimeProgram, unitsAtStart: number): void {
    if (program.loader === 'native') return;
    const used = unitsAtStart - this.#env.meter.remaining;
    this.#env.logs.push(`Program ${program.programId.toBase58()} consumed ${used} of ${unitsAtStart} compute units`);
  }

  #sumLamports(keys: Iterable<string>): bigint {
    let total = 0n;
    for (const key of keys) total += this.#env.state.read(key)?.lamports ?? 0n;
    return total;
  }

  #raise(fault: InstructionFault): never {
    this.#raised ??= fault;
    throw fault;
  }

  #contextFor(frame: Frame, data: Buffer): RuntimeContext {
    const env = this.#env;
    const flags = (key: string) => {
      let isSigner = false;
      let isWritable = false;
      let listed = false;
      for (const account of frame.accounts) {
        if (account.pubkey.toBase58() !== key) continue;
        listed = true;
        isSigner ||= account.isSigner;
        isWritable ||= account.isWritable;
      }
      return { listed, isSigner, isWritable };
    };
    const requireListed = (key: string) => {
      if (!flags(key).listed) this.#raise(new InstructionFault('MissingAccount', `Instruction references an unknown account ${key}`));
    };
    return {
      programId: frame.program.programId,
      accounts: frame.accounts,
      data,
      clock: env.clock,
      get: (pubkey) => {
        const key = pubkey.toBase58();
        requireListed(key);
        const account = env.state.read(key);
        return account && !isEmpty(account) ? { ...account, data: Buffer.from(account.data) } : undefined;
      },
      set: (pubkey, account) => {
        const key = pubkey.toBase58();
        const { listed, isWritable } = flags(key);
        if (!listed) this.#raise(new InstructionFault('MissingAccount', `Instruction references an unknown account ${key}`));
        const next = account ?? EMPTY_ACCOUNT;
        const fault = accountChangeFault(frame, key, isWritable, next);
        if (fault) this.#raise(fault);
        env.state.put(key, isEmpty(next) ? undefined : next);
      },
      log: (message) => env.logs.push(`Program log: ${message}`),
      logRaw: (line) => env.logs.push(line),
      consume: (units) => {
        if (!Number.isInteger(units) || units < 0) throw new Error(`consume: units must be a non-negative integer, got ${units}`);
        if (!env.meter.consume(units))
          this.#raise(new InstructionFault('ComputationalBudgetExceeded', `${frame.programId} exceeded the compute budget`));
      },
      invoke: (programId, accounts, invokeData, pdaSigners = []) => this.#invoke(frame, flags, programId, accounts, invokeData, pdaSigners),
      rentExemptMinimum,
    };
  }

  #invoke(
    caller: Frame,
    callerFlags: (key: string) => { listed: boolean; isSigner: boolean; isWritable: boolean },
    programId: PublicKey,
    accounts: readonly InstructionAccount[],
    data: Buffer,
    pdaSigners: readonly PublicKey[],
  ): void {
    if (this.#raised) throw this.#raised;
    if (this.#failure !== undefined) throw new FrameFailed(this.#failure);
    const calleeId = programId.toBase58();
    if (this.#stack.length >= MAX_STACK_HEIGHT)
      this.#raise(
        new InstructionFault(
          'CallDepth',
          `${caller.programId}: invoking ${calleeId} exceeds the maximum stack height of ${MAX_STACK_HEIGHT}`,
        ),
      );
    if (!callerFlags(calleeId).listed) this.#raise(new InstructionFault('MissingAccount', `Unknown program ${calleeId}`));
    const callee = this.#env.findProgram(calleeId);
    if (!callee) this.#raise(new InstructionFault('UnsupportedProgramId', `Program ${calleeId} is not executable`));
    const reentrant = this.#stack.slice(0, -1).some((frame) => frame.programId === calleeId);
    if (reentrant && caller.programId !== calleeId)
      this.#raise(new InstructionFault('ReentrancyNotAllowed', `Cross-program invocation reentrancy not allowed for ${calleeId}`));
    const signedByCaller = new Set<string>();
    for (const pda of pdaSigners) {
      // Simplification: without the seeds, any off-curve address counts as the caller's PDA.
      if (PublicKey.isOnCurve(pda.toBytes()))
        this.#raise(
          new InstructionFault(
            'PrivilegeEscalation',
            `${pda.toBase58()} is not a program address, so ${caller.programId} cannot sign for it`,
          ),
        );
      signedByCaller.add(pda.toBase58());
    }
    for (const account of accounts) {
      const key = account.pubkey.toBase58();
      const granted = callerFlags(key);
      if (!granted.listed) this.#raise(new InstructionFault('MissingAccount', `Instruction references an unknown account ${key}`));
      if (account.isSigner && !granted.isSigner && !signedByCaller.has(key))
        this.#raise(new InstructionFault('PrivilegeEscalation', `${key}'s signer privilege escalated`));
      if (account.isWritable && !granted.isWritable)
        this.#raise(new InstructionFault('PrivilegeEscalation', `${key}'s writable privilege escalated`));
    }
    if (!this.#env.meter.consume(INVOKE_UNITS))
      this.#raise(new InstructionFault('ComputationalBudgetExceeded', `${caller.programId} exceeded the compute budget`));
    this.innerInstructions.push({
      programIdIndex: this.#env.accountIndex(calleeId),
      accounts: accounts.map((a) => this.#env.accountIndex(a.pubkey.toBase58())),
      data: bs58.encode(data),
      stackHeight: this.#stack.length + 1,
    });
    this.#runFrame(callee, accounts, data);
    // The callee's changes are now the caller's starting point for the ownership rules.
    for (const account of accounts) {
      const key = account.pubkey.toBase58();
      caller.pre.set(key, this.#env.state.read(key) ?? EMPTY_ACCOUNT);
    }
  }
}

// Solana's rules on what an instruction may change, checked against the frame's starting state.
function accountChangeFault(frame: Frame, key: string, isWritable: boolean, next: LedgerAccount): InstructionFault | undefined {
  const pre = frame.pre.get(key) ?? EMPTY_ACCOUNT;
  const owned = pre.owner.toBase58() === frame.programId;
  const lamportsChanged = next.lamports !== pre.lamports;
  const dataChanged = !next.data.equals(pre.data);
  const ownerChanged = !next.owner.equals(pre.owner);
  const at = `${frame.programId} changing ${key}`;
  if (next.lamports < 0n) return new InstructionFault('ArithmeticOverflow', `${at}: negative lamports`);
  if (next.executable !== pre.executable) return new InstructionFault('ExecutableModified', `${at}: the executable flag cannot change`);
  if (pre.executable && lamportsChanged) return new InstructionFault('ExecutableLamportChange', `${at}: balance of an executable account`);
  if (pre.executable && (dataChanged || ownerChanged))
    return new InstructionFault('ExecutableDataModified', `${at}: data of an executable account`);
  if (!isWritable && lamportsChanged) return new InstructionFault('ReadonlyLamportChange', `${at}: account is not writable`);
  if (!isWritable && (dataChanged || ownerChanged)) return new InstructionFault('ReadonlyDataModified', `${at}: account is not writable`);
  if (ownerChanged && (!owned || next.data.some((byte) => byte !== 0))) {
    return new InstructionFault('ModifiedProgramId', `${at}: only the owner may assign an account, and only with zeroed data`);
  }
  if (dataChanged && !owned)
    return new InstructionFault('ExternalAccountDataModified', `${at}: data of an account owned by ${pre.owner.toBase58()}`);
  if (next.data.length > MAX_ACCOUNT_DATA_LENGTH)
    return new InstructionFault('InvalidRealloc', `${at}: ${next.data.length} bytes exceed the maximum account size`);
  if (next.lamports < pre.lamports && !owned)
    return new InstructionFault('ExternalAccountLamportSpend', `${at}: debit of an account owned by ${pre.owner.toBase58()}`);
  return undefined;
}
