// The localnet's bank: ledger, clock, recent blockhashes, programs and landed transactions, plus
// the queue of accepted transactions waiting for their slot. The RPC layer calls `sync` before
// answering so that everything due by the current slot has landed, and asks `readSlot` which slot
// a state read is answered at (an older one while the lag fault is on).
import { createHash, randomBytes } from 'node:crypto';
import { Keypair, SystemProgram, Transaction, type PublicKey } from '@solana/web3.js';
import { DEFAULT_BLOCKHASH_LIFETIME, RecentBlockhashes, genesisHashFor } from './blockhashes.ts';
import { ChainClock } from './clock.ts';
import { FaultDice, type FaultSettings } from './faults.ts';
import { Ledger, type AccountsView } from './ledger.ts';
import { TransactionProcessor, type ExecutedTransaction } from './processor.ts';
import type { LedgerAccount, LocalProgram } from './program.ts';
import { createProgramRegistry, installProgramAccounts, type ProgramRegistry } from './registry.ts';
import { SignatureStore, type TransactionRecord } from './signature-store.ts';
import { createSysvarReader } from './sysvars.ts';
import { TransactionRejected, describeTransactionError, type TransactionErrorJson } from './transaction-errors.ts';
import { decodeWireTransaction, hasValidSignatures, type WireTransaction } from './wire-transaction.ts';

export const DEFAULT_FINALIZE_AFTER_SLOTS = 32;
/** Lamports the faucet behind requestAirdrop starts with (1 000 000 SOL; fits a JSON number). */
export const FAUCET_LAMPORTS = 1_000_000n * 1_000_000_000n;

export type Commitment = 'processed' | 'confirmed' | 'finalized';

export interface LocalChainOptions {
  programs: readonly LocalProgram[];
  faults: FaultSettings;
  faultSeed?: number;
  slotMs?: number;
  blockhashLifetime?: number;
  finalizeAfterSlots?: number;
  keepHistory?: boolean;
  /** Time source in unix ms (tests); defaults to Date.now. */
  now?: () => number;
  /** A previously saved ledger to continue from. */
  restore?: ChainSnapshot;
}

/** Everything needed to continue a ledger after a restart. */
export interface ChainSnapshot {
  genesisSeed: Buffer;
  genesisMs: number;
  clockOffsetMs: number;
  burnedFees: bigint;
  accounts: [string, LedgerAccount][];
  transactions: TransactionRecord[];
}

/** A preflight simulation failed: sendTransaction answers -32002 with these details. */
export class PreflightFailure extends Error {
  readonly error: TransactionErrorJson;
  readonly logs: string[];
  readonly unitsConsumed: number;

  constructor(error: TransactionErrorJson, logs: string[], unitsConsumed: number) {
    super(`Transaction simulation failed: ${describeTransactionError(error)}`);
    this.name = 'PreflightFailure';
    this.error = error;
    this.logs = logs;
    this.unitsConsumed = unitsConsumed;
  }
}

/** A signature did not verify during preflight: sendTransaction answers -32003. */
export class SignatureVerificationFailure extends Error {
  constructor() {
    super('Transaction signature verification failure');
    this.name = 'SignatureVerificationFailure';
  }
}

export interface SimulationOutcome {
  /** Set when the transaction was refused before execution. */
  rejected?: TransactionErrorJson;
  executed?: ExecutedTransaction;
}

interface PendingTransaction {
  transaction: WireTransaction;
  landAt: number;
}

export class LocalChain {
  readonly clock: ChainClock;
  readonly ledger: Ledger;
  readonly signatures: SignatureStore;
  readonly programs: ProgramRegistry;
  readonly faults: FaultSettings;
  readonly genesisSeed: Buffer;
  readonly genesisHash: string;
  readonly blockhashLifetime: number;
  readonly faucet: Keypair;
  readonly #blockhashes: RecentBlockhashes;
  readonly #processor: TransactionProcessor;
  readonly #dice: FaultDice;
  readonly #lagDice: FaultDice;
  readonly #pending: PendingTransaction[] = [];
  #slot = 0;

  constructor(options: LocalChainOptions) {
    const restore = options.restore;
    const finalizeAfterSlots = options.finalizeAfterSlots ?? DEFAULT_FINALIZE_AFTER_SLOTS;
    this.blockhashLifetime = options.blockhashLifetime ?? DEFAULT_BLOCKHASH_LIFETIME;
    if (!Number.isInteger(finalizeAfterSlots) || finalizeAfterSlots < 1)
      throw new Error(`finalizeAfterSlots must be a positive integer, got ${finalizeAfterSlots}`);
    if (!Number.isInteger(this.blockhashLifetime) || this.blockhashLifetime <= finalizeAfterSlots) {
      // Otherwise a finalized blockhash would already be expired when clients get it.
      throw new Error(
        `blockhashLifetime (${this.blockhashLifetime}) must be an integer greater than finalizeAfterSlots (${finalizeAfterSlots})`,
      );
    }
    this.faults = options.faults;
    this.#dice = new FaultDice(options.faultSeed ?? 1);
    // Its own draws, so switching the lag on does not change which transactions are dropped.
    this.#lagDice = new FaultDice((options.faultSeed ?? 1) + 2);
    this.genesisSeed = restore?.genesisSeed ?? randomBytes(32);
    this.genesisHash = genesisHashFor(this.genesisSeed);
    this.clock = new ChainClock({
      ...(options.slotMs === undefined ? {} : { slotMs: options.slotMs }),
      ...(options.now ? { now: options.now } : {}),
      ...(restore ? { genesisMs: restore.genesisMs, offsetMs: restore.clockOffsetMs } : {}),
    });
    this.ledger = new Ledger(createSysvarReader(this.clock), () => this.#slot);
    this.signatures = new SignatureStore({ finalizeAfterSlots, keepHistory: options.keepHistory ?? true });
    this.programs = createProgramRegistry(options.programs);
    this.faucet = Keypair.fromSeed(createHash('sha256').update('faucet').update(this.genesisSeed).digest());
    if (restore) {
      for (const [address, account] of restore.accounts) this.ledger.put(address, account);
      this.ledger.burnFee(restore.burnedFees);
      for (const record of restore.transactions) this.signatures.add(record);
    } else {
      this.ledger.put(this.faucet.publicKey, {
        lamports: FAUCET_LAMPORTS,
        owner: SystemProgram.programId,
        data: Buffer.alloc(0),
        executable: false,
      });
    }
    installProgramAccounts(this.ledger, this.programs);
    this.#blockhashes = new RecentBlockhashes(this.genesisSeed, this.blockhashLifetime + finalizeAfterSlots + 1);
    this.#processor = new TransactionProcessor(this.ledger, this.programs);
    this.sync();
  }

  /** The slot as of the last sync. */
  get slot(): number {
    return this.#slot;
  }

  /** Catches up with the clock: lands every accepted transaction whose slot has come. */
  sync(): void {
    this.#slot = this.clock.slot();
    this.#blockhashes.advanceTo(this.#slot);
    // In arrival order; landing delays may differ (faults can change while transactions wait).
    const due = this.#pending.filter((p) => p.landAt <= this.#slot);
    if (due.length > 0) {
      this.#pending.splice(0, this.#pending.length, ...this.#pending.filter((p) => p.landAt > this.#slot));
      for (const pending of due) this.#land(pending.transaction);
    }
    this.signatures.prune(this.#slot);
  }

  /**
   * The newest slot seen at a commitment level (confirmed lags by 1, finalized by
   * finalizeAfterSlots), by a node whose newest processed slot is `processed` (default: this one).
   */
  slotAt(commitment: Commitment, processed = this.#slot): number {
    if (commitment === 'processed') return processed;
    const lag = commitment === 'confirmed' ? 1 : this.signatures.finalizeAfterSlots;
    return Math.max(0, processed - lag);
  }

  /**
   * The slot one state read is answered at: the current slot, or `faults.lagSlots` older when the
   * lag fault picks this read (a load balancer sending it to a backend that lags behind).
   */
  readSlot(): number {
    const lag = this.faults.lagSlots;
    if (lag === 0 || !this.#lagDice.roll(this.faults.lagRate)) return this.#slot;
    return Math.max(0, this.#slot - lag);
  }

  /** Accounts as they stood at the end of `slot` (see Ledger.at). */
  accountsAt(slot: number): AccountsView {
    return this.ledger.at(slot);
  }

  latestBlockhash(commitment: Commitment): { slot: number; blockhash: string; lastValidBlockHeight: number } {
    const slot = this.slotAt(commitment);
    return { slot, blockhash: this.#blockhashes.hashOf(slot), lastValidBlockHeight: slot + this.blockhashLifetime };
  }

  isBlockhashValid(blockhash: string): boolean {
    const slot = this.#blockhashes.slotOf(blockhash);
    if (slot === undefined) return false;
    const lifetime = Math.min(this.blockhashLifetime, this.faults.expireBlockhashesEarly ?? Infinity);
    return this.#slot <= slot + lifetime;
  }

  /**
   * Accepts a wire transaction for landing at a later slot and returns its signature. Preflight
   * (unless skipped) verifies signatures and simulates; a transaction refused later, at landing,
   * is silently dropped, as a Solana leader drops it.
   */
  submit(transaction: WireTransaction, options: { skipPreflight: boolean }): string {
    if (!options.skipPreflight) {
      if (!hasValidSignatures(transaction)) throw new SignatureVerificationFailure();
      this.#preflight(transaction);
    }
    if (this.#dice.roll(this.faults.dropRate)) return transaction.signature;
    this.#pending.push({ transaction, landAt: this.#slot + 1 + this.faults.landingDelaySlots });
    return transaction.signature;
  }

  /** Executes without committing anything. */
  simulate(transaction: WireTransaction, options: { verifySignatures: boolean; replaceRecentBlockhash: boolean }): SimulationOutcome {
    try {
      return {
        executed: this.#processor.execute(transaction, {
          clock: this.#clockView(),
          isBlockhashValid: (hash) => options.replaceRecentBlockhash || this.isBlockhashValid(hash),
          isAlreadyProcessed: (signature) => this.signatures.has(signature),
          verifySignatures: options.verifySignatures,
        }),
      };
    } catch (error) {
      if (error instanceof TransactionRejected) return { rejected: error.error };
      throw error;
    }
  }

  /** A System transfer from the faucet, landing like any transaction. */
  requestAirdrop(recipient: PublicKey, lamports: bigint): string {
    const transaction = new Transaction({
      feePayer: this.faucet.publicKey,
      blockhash: this.#blockhashes.hashOf(this.#slot),
      lastValidBlockHeight: this.#slot + this.blockhashLifetime,
    }).add(SystemProgram.transfer({ fromPubkey: this.faucet.publicKey, toPubkey: recipient, lamports }));
    transaction.sign(this.faucet);
    const decoded = decodeWireTransaction(transaction.serialize());
    this.#preflight(decoded);
    this.#pending.push({ transaction: decoded, landAt: this.#slot + 1 });
    return decoded.signature;
  }

  snapshot(): ChainSnapshot {
    return {
      genesisSeed: this.genesisSeed,
      genesisMs: this.clock.genesisMs,
      clockOffsetMs: this.clock.offsetMs,
      burnedFees: this.ledger.burnedFees,
      accounts: [...this.ledger.entries()],
      transactions: [...this.signatures.all()],
    };
  }

  #preflight(transaction: WireTransaction): void {
    const outcome = this.simulate(transaction, { verifySignatures: false, replaceRecentBlockhash: false });
    if (outcome.rejected) throw new PreflightFailure(outcome.rejected, [], 0);
    const executed = outcome.executed as ExecutedTransaction;
    if (executed.err) throw new PreflightFailure(executed.err, executed.logs, executed.unitsConsumed);
  }

  #clockView() {
    return { slot: BigInt(this.#slot), unixTimestamp: BigInt(this.clock.unixTimestamp()) };
  }

  #land(transaction: WireTransaction): void {
    let executed: ExecutedTransaction;
    try {
      executed = this.#processor.execute(transaction, {
        clock: this.#clockView(),
        isBlockhashValid: (hash) => this.isBlockhashValid(hash),
        isAlreadyProcessed: (signature) => this.signatures.has(signature),
        verifySignatures: true,
      });
    } catch (error) {
      if (error instanceof TransactionRejected) return;
      throw error;
    }
    const { postBalances, postTokenBalances } = this.#processor.commit(executed);
    this.signatures.add({
      signature: transaction.signature,
      slot: this.#slot,
      blockTime: this.clock.unixTimestamp(),
      err: executed.err,
      fee: executed.fee,
      logs: executed.logs,
      unitsConsumed: executed.unitsConsumed,
      computeUnitPrice: executed.computeUnitPrice,
      wire: transaction.bytes.toString('base64'),
      version: transaction.version,
      accountKeys: transaction.accountKeys.map((k) => k.toBase58()),
      writable: executed.writable,
      innerInstructions: executed.innerInstructions,
      preBalances: executed.preBalances,
      postBalances,
      preTokenBalances: executed.preTokenBalances,
      postTokenBalances,
    });
  }
}
