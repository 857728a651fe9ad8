// Wall-clock time and the slot numbers derived from it. Slots are a pure function of time since
// genesis, so moving the clock forward (tests: `advance`) also moves slots, blockhash expiry and
// the Clock sysvar, exactly as waiting would.
import type { ClockView } from './program.ts';

export const DEFAULT_SLOT_MS = 400;

export interface ChainClockOptions {
  slotMs?: number;
  /** Unix ms of slot 0. */
  genesisMs?: number;
  /** Time already added with `advance` (restored from a state file). */
  offsetMs?: number;
  /** Time source in unix ms; defaults to Date.now. */
  now?: () => number;
}

export class ChainClock {
  readonly slotMs: number;
  readonly genesisMs: number;
  #offsetMs: number;
  readonly #source: () => number;
  // The wall clock may step back (NTP); slots and timestamps must not.
  #latestMs = 0;

  constructor(options: ChainClockOptions = {}) {
    this.slotMs = options.slotMs ?? DEFAULT_SLOT_MS;
    if (!Number.isInteger(this.slotMs) || this.slotMs <= 0) throw new Error(`slotMs must be a positive integer, got ${this.slotMs}`);
    this.#source = options.now ?? Date.now;
    this.#offsetMs = options.offsetMs ?? 0;
    this.genesisMs = options.genesisMs ?? this.#source();
  }

  /** Moves time forward without sleeping. */
  advance(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`clock.advance: seconds must be a non-negative number, got ${seconds}`);
    this.#offsetMs += Math.round(seconds * 1000);
  }

  get offsetMs(): number {
    return this.#offsetMs;
  }

  nowMs(): number {
    this.#latestMs = Math.max(this.#latestMs, this.#source() + this.#offsetMs);
    return this.#latestMs;
  }

  slot(): number {
    return Math.max(0, Math.floor((this.nowMs() - this.genesisMs) / this.slotMs));
  }

  unixTimestamp(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  /** Unix seconds at which `slot` began (getBlockTime for slots without transactions). */
  slotTime(slot: number): number {
    return Math.floor((this.genesisMs + slot * this.slotMs) / 1000);
  }

  view(): ClockView {
    return { slot: BigInt(this.slot()), unixTimestamp: BigInt(this.unixTimestamp()) };
  }
}
