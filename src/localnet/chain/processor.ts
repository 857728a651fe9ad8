// Checks and executes one transaction against the ledger, as a Solana bank does: age, duplicate,
// signature, program and fee-payer checks first (a failure there means the transaction never
// lands), then the fee, then every instruction against one staged state that is kept only when
// all of them succeed. Nothing is written to the ledger until `commit`.
import type { PublicKey } from '@solana/web3.js';
import { SYSTEM_PROGRAM_ID, TOKEN_PROGRAM_ID } from './addresses.ts';
import { readComputeBudget } from './builtins/compute-budget.ts';
import { ComputeMeter, InstructionRunner, LogCollector, type InnerInstruction } from './invocation.ts';
import type { Ledger } from './ledger.ts';
import type { ClockView, LedgerAccount } from './program.ts';
import type { ProgramRegistry } from './registry.ts';
import { rentExemptMinimum } from './rent.ts';
import { StagedAccounts } from './staged-accounts.ts';
import { SYSVAR_ADDRESSES } from './sysvars.ts';
import { decodeMint, decodeTokenAccount, uiTokenAmount, type UiTokenAmount } from './token-state.ts';
import { TransactionRejected, type TransactionErrorJson } from './transaction-errors.ts';
import { hasValidSignatures, isSignerIndex, isWritableIndex, type WireTransaction } from './wire-transaction.ts';

export const LAMPORTS_PER_SIGNATURE = 5000n;

export interface TokenBalance {
  accountIndex: number;
  mint: string;
  owner: string;
  programId: string;
  uiTokenAmount: UiTokenAmount;
}

export interface ExecutedTransaction {
  transaction: WireTransaction;
  err: TransactionErrorJson | null;
  logs: string[];
  unitsConsumed: number;
  fee: bigint;
  computeUnitPrice: bigint;
  /** Which account keys the runtime let the transaction write (after demotion of reserved ones). */
  writable: boolean[];
  innerInstructions: { index: number; instructions: InnerInstruction[] }[];
  preBalances: bigint[];
  preTokenBalances: TokenBalance[];
  /** The fee alone; committed even when execution failed. */
  feeStage: StagedAccounts;
  /** The instructions' writes; committed only on success. */
  executionStage: StagedAccounts;
}

export interface ProcessOptions {
  clock: ClockView;
  /** Whether `blockhash` may still be used. */
  isBlockhashValid(blockhash: string): boolean;
  isAlreadyProcessed(signature: string): boolean;
  verifySignatures: boolean;
}

export function transactionFee(signatureCount: number, unitLimit: number, unitPrice: bigint): bigint {
  const priority = (BigInt(unitLimit) * unitPrice + 999_999n) / 1_000_000n;
  return BigInt(signatureCount) * LAMPORTS_PER_SIGNATURE + priority;
}

export class TransactionProcessor {
  readonly #ledger: Ledger;
  readonly #programs: ProgramRegistry;
  readonly #reserved: Set<string>;

  constructor(ledger: Ledger, programs: ProgramRegistry) {
    this.#ledger = ledger;
    this.#programs = programs;
    // Solana demotes these to read-only whatever the message says.
    this.#reserved = new Set([...SYSVAR_ADDRESSES, ...programs.all().map((p) => p.programId.toBase58())]);
  }

  /** Throws TransactionRejected when the transaction cannot land; otherwise returns its outcome. */
  execute(transaction: WireTransaction, options: ProcessOptions): ExecutedTransaction {
    if (options.isAlreadyProcessed(transaction.signature)) throw new TransactionRejected('AlreadyProcessed');
    if (!options.isBlockhashValid(transaction.recentBlockhash)) throw new TransactionRejected('BlockhashNotFound');
    if (options.verifySignatures && !hasValidSignatures(transaction)) throw new TransactionRejected('SignatureFailure');
    const budget = readComputeBudget(transaction);
    this.#checkPrograms(transaction);
    const keys = transaction.accountKeys.map((k) => k.toBase58());
    const fee = transactionFee(transaction.numRequiredSignatures, budget.unitLimit, budget.unitPrice);
    const feeStage = this.#chargeFee(keys[0] as string, fee);

    const writable = keys.map((key, i) => isWritableIndex(transaction, i) && !this.#reserved.has(key));
    const preBalances = keys.map((key) => this.#ledger.get(key)?.lamports ?? 0n);
    const preTokenBalances = tokenBalances(keys, (key) => this.#ledger.get(key));
    const executionStage = new StagedAccounts(feeStage.reader);
    const meter = new ComputeMeter(budget.unitLimit);
    const logs = new LogCollector();
    const innerInstructions: ExecutedTransaction['innerInstructions'] = [];
    let err: TransactionErrorJson | null = null;
    for (const [index, ix] of transaction.instructions.entries()) {
      const program = this.#programs.find(keys[ix.programIndex] as string);
      if (!program) throw new Error(`program of instruction ${index} vanished after the program check`);
      const runner = new InstructionRunner({
        state: executionStage,
        clock: options.clock,
        meter,
        logs,
        findProgram: (id) => this.#programs.find(id),
        accountIndex: (address) => keys.indexOf(address),
      });
      const accounts = ix.accountIndexes.map((i) => ({
        pubkey: transaction.accountKeys[i] as PublicKey,
        isSigner: isSignerIndex(transaction, i),
        isWritable: writable[i] ?? false,
      }));
      const failure = runner.run(program, accounts, ix.data);
      if (runner.innerInstructions.length > 0) innerInstructions.push({ index, instructions: runner.innerInstructions });
      if (failure !== undefined) {
        err = { InstructionError: [index, failure] };
        break;
      }
    }
    err ??= this.#rentViolation(keys, feeStage, executionStage);
    return {
      transaction,
      err,
      logs: logs.lines,
      unitsConsumed: budget.unitLimit - meter.remaining,
      fee,
      computeUnitPrice: budget.unitPrice,
      writable,
      innerInstructions,
      preBalances,
      preTokenBalances,
      feeStage,
      executionStage,
    };
  }

  /** Writes the outcome to the ledger: the fee always, the instructions' writes on success. */
  commit(executed: ExecutedTransaction): { postBalances: bigint[]; postTokenBalances: TokenBalance[] } {
    if (executed.err === null) executed.executionStage.commitTo(executed.feeStage);
    executed.feeStage.commitTo(this.#ledger);
    this.#ledger.burnFee(executed.fee);
    const keys = executed.transaction.accountKeys.map((k) => k.toBase58());
    return {
      postBalances: keys.map((key) => this.#ledger.get(key)?.lamports ?? 0n),
      postTokenBalances: tokenBalances(keys, (key) => this.#ledger.get(key)),
    };
  }

  #checkPrograms(transaction: WireTransaction): void {
    for (const ix of transaction.instructions) {
      const key = transaction.accountKeys[ix.programIndex]?.toBase58() ?? '';
      const account = this.#ledger.get(key);
      if (!account) throw new TransactionRejected('ProgramAccountNotFound');
      if (!account.executable || !this.#programs.find(key)) throw new TransactionRejected('InvalidProgramForExecution');
    }
  }

  #chargeFee(payer: string, fee: bigint): StagedAccounts {
    const account = this.#ledger.get(payer);
    if (!account) throw new TransactionRejected('AccountNotFound');
    if (!account.owner.equals(SYSTEM_PROGRAM_ID) || account.data.length > 0) throw new TransactionRejected('InvalidAccountForFee');
    if (account.lamports < fee) throw new TransactionRejected('InsufficientFundsForFee');
    const remaining = account.lamports - fee;
    if (remaining > 0n && remaining < rentExemptMinimum(0))
      throw new TransactionRejected({ InsufficientFundsForRent: { account_index: 0 } });
    const stage = new StagedAccounts((address) => this.#ledger.get(address));
    stage.put(payer, { ...account, lamports: remaining });
    return stage;
  }

  // An account may end below the rent-exempt minimum only if it was already there with the same
  // size and did not gain lamports (Solana's rent-state transition rule).
  #rentViolation(keys: string[], before: StagedAccounts, after: StagedAccounts): TransactionErrorJson | null {
    for (const [address, post] of after.writes) {
      if (!post || post.lamports === 0n || post.lamports >= rentExemptMinimum(post.data.length)) continue;
      const pre = before.read(address);
      const wasRentPaying = pre !== undefined && pre.lamports > 0n && pre.lamports < rentExemptMinimum(pre.data.length);
      if (wasRentPaying && pre.data.length === post.data.length && post.lamports <= pre.lamports) continue;
      return { InsufficientFundsForRent: { account_index: keys.indexOf(address) } };
    }
    return null;
  }
}

function tokenBalances(keys: string[], read: (address: string) => LedgerAccount | undefined): TokenBalance[] {
  const balances: TokenBalance[] = [];
  keys.forEach((key, accountIndex) => {
    const account = read(key);
    if (!account?.owner.equals(TOKEN_PROGRAM_ID)) return;
    const state = decodeTokenAccount(account.data);
    if (!state || state.state === 0) return;
    const mintAccount = read(state.mint.toBase58());
    const decimals = mintAccount ? (decodeMint(mintAccount.data)?.decimals ?? 0) : 0;
    balances.push({
      accountIndex,
      mint: state.mint.toBase58(),
      owner: state.owner.toBase58(),
      programId: TOKEN_PROGRAM_ID.toBase58(),
      uiTokenAmount: uiTokenAmount(state.amount, decimals),
    });
  });
  return balances;
}
