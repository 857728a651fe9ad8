// One blockhash per slot, derived from the ledger's genesis seed, and the lookup from a recent
// blockhash back to its slot that transaction age checks need.
import { createHash } from 'node:crypto';
import bs58 from 'bs58';

export const DEFAULT_BLOCKHASH_LIFETIME = 150;

export function blockhashForSlot(genesisSeed: Buffer, slot: number): string {
  const slotBytes = Buffer.alloc(8);
  slotBytes.writeBigUInt64LE(BigInt(slot));
  return bs58.encode(createHash('sha256').update('blockhash').update(genesisSeed).update(slotBytes).digest());
}

export function genesisHashFor(genesisSeed: Buffer): string {
  return bs58.encode(createHash('sha256').update('nosana-operator localnet genesis').update(genesisSeed).digest());
}

/** Remembers the blockhashes of the last `window` slots. */
export class RecentBlockhashes {
  readonly #seed: Buffer;
  readonly #window: number;
  readonly #slotByHash = new Map<string, number>();
  readonly #hashBySlot = new Map<number, string>();
  #newestSlot = -1;

  constructor(genesisSeed: Buffer, window: number) {
    this.#seed = genesisSeed;
    this.#window = window;
  }

  /** Brings the window up to `currentSlot`; slots may jump (the clock can be advanced). */
  advanceTo(currentSlot: number): void {
    if (currentSlot <= this.#newestSlot) return;
    const oldest = Math.max(0, currentSlot - this.#window);
    for (let slot = Math.max(oldest, this.#newestSlot + 1); slot <= currentSlot; slot++) {
      const hash = blockhashForSlot(this.#seed, slot);
      this.#slotByHash.set(hash, slot);
      this.#hashBySlot.set(slot, hash);
    }
    for (const [slot, hash] of this.#hashBySlot) {
      if (slot >= oldest) break;
      this.#hashBySlot.delete(slot);
      this.#slotByHash.delete(hash);
    }
    this.#newestSlot = currentSlot;
  }

  /** Blockhash of a slot inside the window. */
  hashOf(slot: number): string {
    return this.#hashBySlot.get(slot) ?? blockhashForSlot(this.#seed, slot);
  }

  /** Slot of a blockhash still in the window, else undefined (unknown or too old). */
  slotOf(blockhash: string): number | undefined {
    return this.#slotByHash.get(blockhash);
  }
}
