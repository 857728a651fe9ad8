// Building, signing, sending and confirming transactions: compute-unit limit from simulation,
// priority price from recent fees, confirmation by polling signature statuses (websockets are an
// optimisation the project does not depend on), and re-broadcasting the same bytes while waiting
// because an RPC may silently drop a transaction.
import bs58 from 'bs58';
import { ComputeBudgetProgram, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import type { Connection, Keypair, PublicKey, TransactionInstruction } from '@solana/web3.js';
import { parseProgramError } from './program-errors.ts';
import { isSettled, lookupSignature } from './signature-status.ts';
import type { ParsedProgramError } from './program-errors.ts';

export interface SenderOptions {
  /** Floor for the priority price in micro-lamports per CU (mainnet nodes use ~10 000). */
  minPriorityMicroLamports?: number;
  /** Cap for the priority price. */
  maxPriorityMicroLamports?: number;
  /** Headroom on the simulated compute units (fraction). */
  computeUnitMargin?: number;
  /** How often to poll signature statuses while confirming. */
  pollIntervalMs?: number;
  /** How often to re-send the same bytes while confirming. */
  rebroadcastIntervalMs?: number;
}

const DEFAULTS: Required<SenderOptions> = {
  minPriorityMicroLamports: 0,
  maxPriorityMicroLamports: 1_000_000,
  computeUnitMargin: 0.2,
  pollIntervalMs: 400,
  rebroadcastIntervalMs: 2_000,
};

/** A transaction ran and failed; `programError` names the program error when the logs carry one. */
export class TransactionFailedError extends Error {
  readonly programError: ParsedProgramError | undefined;
  readonly logs: readonly string[];
  readonly signature: string | undefined;

  constructor(what: string, detail: string, logs: readonly string[] | null | undefined, signature?: string) {
    const programError = parseProgramError(logs);
    super(
      `${what} failed: ${programError === undefined ? detail : `${programError.name}${programError.message === undefined ? '' : ` (${programError.message})`}`}`,
    );
    this.name = 'TransactionFailedError';
    this.programError = programError;
    this.logs = logs ?? [];
    this.signature = signature;
  }
}

/** The blockhash expired before the transaction was seen: it can no longer land. */
export class TransactionExpiredError extends Error {
  readonly signature: string;
  constructor(what: string, signature: string) {
    super(`${what}: transaction ${signature} expired before it landed`);
    this.name = 'TransactionExpiredError';
    this.signature = signature;
  }
}

/** A confirmed transaction: its signature and the slot it landed in. */
export interface Landed {
  signature: string;
  slot: number;
}

export interface SignedTransaction {
  transaction: VersionedTransaction;
  signature: string;
  lastValidBlockHeight: number;
  /** The slot at which the blockhash was fetched. */
  slot: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** How long recent priority fees are reused: the fee market moves over minutes, not per post. */
const PRIORITY_FEES_REUSE_MS = 10_000;

/** Answers kept for a while, by question; one asked but not yet answered is shared, a failed one forgotten. */
class RecentAnswers<T> {
  readonly #answers = new Map<string, { answer: Promise<T>; askedAt: number }>();
  readonly #maxAgeMs: number;

  constructor(maxAgeMs: number) {
    this.#maxAgeMs = maxAgeMs;
  }

  get(question: string, ask: () => Promise<T>): Promise<T> {
    const now = performance.now();
    const kept = this.#answers.get(question);
    if (kept !== undefined && now - kept.askedAt < this.#maxAgeMs) return kept.answer;
    for (const [key, entry] of this.#answers) if (now - entry.askedAt >= this.#maxAgeMs) this.#answers.delete(key);
    const answer = ask();
    this.#answers.set(question, { answer, askedAt: now });
    answer.catch(() => {
      if (this.#answers.get(question)?.answer === answer) this.#answers.delete(question);
    });
    return answer;
  }
}

export class TransactionSender {
  private readonly connection: Connection;
  private readonly options: Required<SenderOptions>;
  private readonly priorityFees = new RecentAnswers<readonly { prioritizationFee: number }[]>(PRIORITY_FEES_REUSE_MS);

  constructor(connection: Connection, options: SenderOptions = {}) {
    this.connection = connection;
    this.options = { ...DEFAULTS, ...options };
  }

  /**
   * Simulates to learn the compute units (and to fail early, before anything is persisted or
   * paid), then builds and signs the final transaction with a compute budget.
   */
  async build(what: string, instructions: TransactionInstruction[], feePayer: PublicKey, signers: Keypair[]): Promise<SignedTransaction> {
    // Never reused from an earlier build: a transaction re-signed after its predecessor expired
    // must not carry the same blockhash (the same bytes, the same signature), however short the
    // cluster's validity window.
    const {
      context,
      value: { blockhash, lastValidBlockHeight },
    } = await this.connection.getLatestBlockhashAndContext('confirmed');
    const probe = compile(feePayer, blockhash, [ComputeBudgetProgram.setComputeUnitLimit({ units: 1_400_000 }), ...instructions]);
    const simulation = await this.connection.simulateTransaction(probe, {
      sigVerify: false,
      replaceRecentBlockhash: true,
      commitment: 'confirmed',
    });
    if (simulation.value.err !== null) {
      throw new TransactionFailedError(what, JSON.stringify(simulation.value.err), simulation.value.logs);
    }
    const consumed = simulation.value.unitsConsumed ?? 200_000;
    const units = Math.min(1_400_000, Math.ceil(consumed * (1 + this.options.computeUnitMargin)) + 1_000);
    // Keys signing besides the payer are the accounts this transaction creates (a job, a run):
    // new, so without fee history, and left out so that equal questions stay equal (and shared).
    const created = new Set(signers.map((signer) => signer.publicKey.toBase58()).filter((key) => key !== feePayer.toBase58()));
    const price = await this.priorityPrice(instructions, created);
    const budget = [ComputeBudgetProgram.setComputeUnitLimit({ units })];
    if (price > 0) budget.push(ComputeBudgetProgram.setComputeUnitPrice({ microLamports: price }));
    const transaction = compile(feePayer, blockhash, [...budget, ...instructions]);
    transaction.sign(signers);
    const signature = base58Signature(transaction);
    return { transaction, signature, lastValidBlockHeight, slot: context.slot };
  }

  /** Sends once; re-sending the same bytes is harmless (the cluster de-duplicates by signature). */
  async send(transaction: VersionedTransaction | Uint8Array): Promise<void> {
    const bytes = transaction instanceof VersionedTransaction ? transaction.serialize() : transaction;
    await this.connection.sendRawTransaction(bytes, { skipPreflight: true, maxRetries: 0 });
  }

  /**
   * Sends and waits until confirmed, re-broadcasting while waiting; throws when it fails or
   * expires. Answers the slot it landed in too: a read as of that slot or later shows its effects.
   */
  async sendAndConfirm(what: string, signed: SignedTransaction): Promise<Landed> {
    const bytes = signed.transaction.serialize();
    await this.send(bytes);
    let lastSend = Date.now();
    for (;;) {
      // With history where the RPC has it: a poll that comes late (slow RPC, retries) must still find it.
      const { status } = await lookupSignature(this.connection, signed.signature);
      if (status !== undefined && isSettled(status)) {
        if (status.err !== null) {
          const details = await this.connection
            .getTransaction(signed.signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 })
            .catch(() => null);
          throw new TransactionFailedError(what, JSON.stringify(status.err), details?.meta?.logMessages, signed.signature);
        }
        return { signature: signed.signature, slot: status.slot };
      }
      if (status === undefined && (await this.connection.getBlockHeight('confirmed')) > signed.lastValidBlockHeight) {
        throw new TransactionExpiredError(what, signed.signature);
      }
      if (Date.now() - lastSend >= this.options.rebroadcastIntervalMs) {
        await this.send(bytes).catch(() => undefined);
        lastSend = Date.now();
      }
      await sleep(this.options.pollIntervalMs);
    }
  }

  /**
   * Waits until `signature` is seen settled (landed or failed) or `timeoutMs` has passed, and
   * answers which. It judges nothing: whoever acts on the outcome resolves it with its own rules.
   */
  async awaitSettled(signature: string, timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const { status } = await lookupSignature(this.connection, signature);
      if (status !== undefined && isSettled(status)) return true;
      if (Date.now() + this.options.pollIntervalMs > until) return false;
      await sleep(this.options.pollIntervalMs);
    }
  }

  /** Builds, signs, sends and confirms. */
  async execute(what: string, instructions: TransactionInstruction[], feePayer: PublicKey, signers: Keypair[]): Promise<string> {
    return (await this.executeLanded(what, instructions, feePayer, signers)).signature;
  }

  /** As execute, answering the slot the transaction landed in too. */
  async executeLanded(what: string, instructions: TransactionInstruction[], feePayer: PublicKey, signers: Keypair[]): Promise<Landed> {
    return this.sendAndConfirm(what, await this.build(what, instructions, feePayer, signers));
  }

  private async priorityPrice(instructions: TransactionInstruction[], created: ReadonlySet<string>): Promise<number> {
    const writable = [
      ...new Map(
        instructions.flatMap((ix) =>
          ix.keys.filter((key) => key.isWritable && !created.has(key.pubkey.toBase58())).map((key) => [key.pubkey.toBase58(), key.pubkey]),
        ),
      ).values(),
    ].slice(0, 128);
    let recent: readonly { prioritizationFee: number }[] = [];
    try {
      const question = writable.map((key) => key.toBase58()).join(',');
      recent = await this.priorityFees.get(question, () =>
        this.connection.getRecentPrioritizationFees({ lockedWritableAccounts: writable }),
      );
    } catch {
      // Some RPCs do not offer it; the floor applies.
    }
    const fees = recent.map((entry) => entry.prioritizationFee).sort((a, b) => a - b);
    // The 75th percentile lands reliably without bidding against the most aggressive senders.
    const percentile = fees.length === 0 ? 0 : (fees[Math.floor(fees.length * 0.75)] ?? 0);
    return Math.min(this.options.maxPriorityMicroLamports, Math.max(this.options.minPriorityMicroLamports, percentile));
  }
}

function compile(feePayer: PublicKey, blockhash: string, instructions: TransactionInstruction[]): VersionedTransaction {
  return new VersionedTransaction(
    new TransactionMessage({ payerKey: feePayer, recentBlockhash: blockhash, instructions }).compileToLegacyMessage(),
  );
}

export function base58Signature(transaction: VersionedTransaction): string {
  const first = transaction.signatures[0];
  if (first === undefined) throw new Error('transaction has no signature');
  return bs58.encode(first);
}
