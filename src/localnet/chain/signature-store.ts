// Landed transactions by signature and by account, with their confirmation level derived from
// how many slots have passed. Without history (keepHistory: false) the store forgets what falls
// out of the status cache, like an RPC node that keeps no transaction history. Lookups take the
// slot a read is answered at: a node that has processed only up to an earlier slot does not know
// what landed after it.
import type { InnerInstruction } from './invocation.ts';
import type { TokenBalance } from './processor.ts';
import type { TransactionErrorJson } from './transaction-errors.ts';

/** How many recent slots Solana's status cache answers for (MAX_RECENT_BLOCKHASHES). */
export const STATUS_CACHE_SLOTS = 300;

export type ConfirmationStatus = 'processed' | 'confirmed' | 'finalized';

export interface TransactionRecord {
  signature: string;
  slot: number;
  blockTime: number;
  err: TransactionErrorJson | null;
  fee: bigint;
  logs: string[];
  unitsConsumed: number;
  computeUnitPrice: bigint;
  /** The wire transaction, base64. */
  wire: string;
  version: 'legacy' | 0;
  accountKeys: string[];
  writable: boolean[];
  innerInstructions: { index: number; instructions: InnerInstruction[] }[];
  preBalances: bigint[];
  postBalances: bigint[];
  preTokenBalances: TokenBalance[];
  postTokenBalances: TokenBalance[];
}

export interface SignatureStoreOptions {
  finalizeAfterSlots: number;
  keepHistory: boolean;
}

export class SignatureStore {
  readonly finalizeAfterSlots: number;
  readonly keepHistory: boolean;
  readonly #records = new Map<string, TransactionRecord>();
  // Oldest first; transactions land in slot order.
  readonly #bySlotOrder: TransactionRecord[] = [];
  readonly #byAddress = new Map<string, TransactionRecord[]>();
  #landedCount = 0;

  constructor(options: SignatureStoreOptions) {
    this.finalizeAfterSlots = options.finalizeAfterSlots;
    this.keepHistory = options.keepHistory;
  }

  add(record: TransactionRecord): void {
    this.#landedCount++;
    this.#records.set(record.signature, record);
    this.#bySlotOrder.push(record);
    for (const key of record.accountKeys) {
      const list = this.#byAddress.get(key);
      if (list) list.push(record);
      else this.#byAddress.set(key, [record]);
    }
  }

  has(signature: string): boolean {
    return this.#records.has(signature);
  }

  /** The record, if it landed at or before `asOfSlot` (default: whenever). */
  get(signature: string, asOfSlot = Infinity): TransactionRecord | undefined {
    const record = this.#records.get(signature);
    return record !== undefined && record.slot <= asOfSlot ? record : undefined;
  }

  /** Whether the status cache (not the history) still answers for a record at `currentSlot`. */
  inStatusCache(record: TransactionRecord, currentSlot: number): boolean {
    return currentSlot - record.slot <= STATUS_CACHE_SLOTS;
  }

  confirmationStatus(record: TransactionRecord, currentSlot: number): ConfirmationStatus {
    const age = currentSlot - record.slot;
    if (age >= this.finalizeAfterSlots) return 'finalized';
    return age >= 1 ? 'confirmed' : 'processed';
  }

  /** Newest first; only those landed at or before `asOfSlot` (default: whenever). */
  forAddress(address: string, asOfSlot = Infinity): TransactionRecord[] {
    return (this.#byAddress.get(address) ?? []).filter((record) => record.slot <= asOfSlot).reverse();
  }

  /** Records of slots >= `fromSlot`, oldest first. */
  since(fromSlot: number): TransactionRecord[] {
    let start = this.#bySlotOrder.length;
    while (start > 0 && (this.#bySlotOrder[start - 1]?.slot ?? -1) >= fromSlot) start--;
    return this.#bySlotOrder.slice(start);
  }

  /** Transactions landed (including ones pruned since). */
  get landedCount(): number {
    return this.#landedCount;
  }

  all(): readonly TransactionRecord[] {
    return this.#bySlotOrder;
  }

  /** Without history, forgets records older than the status cache. */
  prune(currentSlot: number): void {
    if (this.keepHistory) return;
    while (this.#bySlotOrder[0] && !this.inStatusCache(this.#bySlotOrder[0], currentSlot)) {
      const record = this.#bySlotOrder.shift() as TransactionRecord;
      this.#records.delete(record.signature);
      for (const key of record.accountKeys) {
        const list = this.#byAddress.get(key);
        list?.shift();
        if (list?.length === 0) this.#byAddress.delete(key);
      }
    }
  }
}
