// What accounts looked like a few slots ago, so the RPC can answer like a node that lags behind
// the cluster (the `lagSlots` fault). Every write to the ledger records the value it replaced,
// once per address and slot; the state at the end of slot S is the current value with every
// change made after S undone. Only the last PAST_STATE_SLOTS slots are kept: memory grows with the
// writes of that window, not with the ledger's age. Stored accounts are never mutated in place
// (the ledger keeps copies), so a replaced value is kept by reference, without copying it.
import type { LedgerAccount } from './program.ts';

/** How far back (in slots) the state can be read; the largest lag the fault accepts. */
export const PAST_STATE_SLOTS = 512;

interface Change {
  slot: number;
  address: string;
  /** The value at the end of the slot before `slot` (undefined: the account did not exist). */
  before: LedgerAccount | undefined;
}

export class AccountHistory {
  readonly #window: number;
  // Every change, oldest first; `#head` is the first one still kept.
  #changes: Change[] = [];
  #head = 0;
  // The same changes by address, oldest first.
  readonly #byAddress = new Map<string, Change[]>();

  constructor(window = PAST_STATE_SLOTS) {
    this.#window = window;
  }

  /** Called before `address` changes at `slot` (slots never go back), with the value it had. */
  record(slot: number, address: string, before: LedgerAccount | undefined): void {
    this.#prune(slot);
    const changes = this.#byAddress.get(address);
    // A second change within the same slot replaces a value no reader of an older slot can see.
    if (changes?.at(-1)?.slot === slot) return;
    const change = { slot, address, before };
    this.#changes.push(change);
    if (changes) changes.push(change);
    else this.#byAddress.set(address, [change]);
  }

  /** The account at the end of `slot`, given its current value. */
  valueAt(address: string, slot: number, current: LedgerAccount | undefined): LedgerAccount | undefined {
    const later = this.#byAddress.get(address)?.find((change) => change.slot > slot);
    return later === undefined ? current : later.before;
  }

  /** Addresses changed after `slot`. */
  changedAfter(slot: number): Set<string> {
    const addresses = new Set<string>();
    for (let index = this.#changes.length - 1; index >= this.#head; index--) {
      const change = this.#changes[index] as Change;
      if (change.slot <= slot) break;
      addresses.add(change.address);
    }
    return addresses;
  }

  /** Changes kept (for tests of the bound). */
  get size(): number {
    return this.#changes.length - this.#head;
  }

  // Forgets changes at or before `currentSlot - window`: the state of every slot after that stays
  // readable, the only slots a lagging read may ask for.
  #prune(currentSlot: number): void {
    const oldest = currentSlot - this.#window;
    while (this.#head < this.#changes.length && (this.#changes[this.#head] as Change).slot <= oldest) {
      const change = this.#changes[this.#head] as Change;
      this.#head++;
      const changes = this.#byAddress.get(change.address);
      changes?.shift();
      if (changes?.length === 0) this.#byAddress.delete(change.address);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#changes.length) {
      this.#changes = this.#changes.slice(this.#head);
      this.#head = 0;
    }
  }
}
