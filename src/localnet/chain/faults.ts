// Faults a test can switch on, at start or while running, to see how clients cope with a bad
// RPC node: dropped transactions, late landing, rate limiting, server errors, hanging requests,
// blockhashes that expire early, reads answered from the past by a lagging backend, and on the
// PubSub websocket, dropped connections and late notifications (so reconnect paths get exercised).
// Draws come from a seeded generator so runs repeat.
import { PAST_STATE_SLOTS } from './account-history.ts';

export interface ChainFaults {
  /** Fraction of sendTransaction calls answered with a signature but never landed. */
  dropRate: number;
  /** Extra slots before an accepted transaction lands. */
  landingDelaySlots: number;
  /** Fraction of HTTP requests answered 429 with Retry-After: 1. */
  rateLimitRate: number;
  /** Fraction of HTTP requests answered 503. */
  serverErrorRate: number;
  /** Fraction of HTTP requests whose answer is held back for `hangMs` (after they took effect). */
  hangRate: number;
  hangMs: number;
  /** When set, every blockhash expires after this many blocks, whatever getLatestBlockhash said. */
  expireBlockhashesEarly: number | null;
  /**
   * State reads (accounts, balances, token accounts, signature statuses, address history,
   * transactions) answer as of this many slots ago, as a load-balanced RPC does when it picks a
   * backend that lags: later changes are invisible and the context slot is the old one. The
   * cluster's clock (getSlot, getBlockHeight, getEpochInfo, blockhashes) stays current, as if
   * served by an up-to-date backend. At most PAST_STATE_SLOTS.
   */
  lagSlots: number;
  /** Fraction of state reads that lag when `lagSlots` is set (1: all of them). */
  lagRate: number;
  /**
   * Fraction of open PubSub websocket connections dropped at each notification tick: the socket is
   * cut without a close frame, as a network failure does, and its subscriptions are gone.
   */
  wsDropRate: number;
  /** When set, each PubSub connection is dropped as soon as it has been sent this many notifications. */
  wsDropAfterNotifications: number | null;
  /** PubSub notifications reach their client this many ms late (in order; answers to requests are not delayed). */
  wsNotificationDelayMs: number;
}

export const NO_FAULTS: Readonly<ChainFaults> = Object.freeze({
  dropRate: 0,
  landingDelaySlots: 0,
  rateLimitRate: 0,
  serverErrorRate: 0,
  hangRate: 0,
  hangMs: 10_000,
  expireBlockhashesEarly: null,
  lagSlots: 0,
  lagRate: 1,
  wsDropRate: 0,
  wsDropAfterNotifications: null,
  wsNotificationDelayMs: 0,
});

function checkRate(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new Error(`faults.${name} must be a fraction between 0 and 1, got ${value}`);
  return value;
}

function checkCount(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new Error(`faults.${name} must be a non-negative integer, got ${value}`);
  return value;
}

/** The mutable fault settings; every assignment is validated. */
export class FaultSettings implements ChainFaults {
  #values: ChainFaults = { ...NO_FAULTS };

  constructor(initial: Partial<ChainFaults> = {}) {
    this.set(initial);
  }

  /** Changes several settings at once; unknown names are refused. */
  set(changes: Partial<ChainFaults>): void {
    for (const name of Object.keys(changes)) {
      if (!(name in NO_FAULTS)) throw new Error(`faults: unknown setting ${name}`);
    }
    Object.assign(this, changes);
  }

  get dropRate(): number {
    return this.#values.dropRate;
  }
  set dropRate(value: number) {
    this.#values.dropRate = checkRate('dropRate', value);
  }
  get landingDelaySlots(): number {
    return this.#values.landingDelaySlots;
  }
  set landingDelaySlots(value: number) {
    this.#values.landingDelaySlots = checkCount('landingDelaySlots', value);
  }
  get rateLimitRate(): number {
    return this.#values.rateLimitRate;
  }
  set rateLimitRate(value: number) {
    this.#values.rateLimitRate = checkRate('rateLimitRate', value);
  }
  get serverErrorRate(): number {
    return this.#values.serverErrorRate;
  }
  set serverErrorRate(value: number) {
    this.#values.serverErrorRate = checkRate('serverErrorRate', value);
  }
  get hangRate(): number {
    return this.#values.hangRate;
  }
  set hangRate(value: number) {
    this.#values.hangRate = checkRate('hangRate', value);
  }
  get hangMs(): number {
    return this.#values.hangMs;
  }
  set hangMs(value: number) {
    this.#values.hangMs = checkCount('hangMs', value);
  }
  get expireBlockhashesEarly(): number | null {
    return this.#values.expireBlockhashesEarly;
  }
  set expireBlockhashesEarly(value: number | null) {
    this.#values.expireBlockhashesEarly = value === null ? null : checkCount('expireBlockhashesEarly', value);
  }
  get lagSlots(): number {
    return this.#values.lagSlots;
  }
  set lagSlots(value: number) {
    if (checkCount('lagSlots', value) > PAST_STATE_SLOTS)
      throw new Error(`faults.lagSlots must be at most ${PAST_STATE_SLOTS} (the past the localnet keeps), got ${value}`);
    this.#values.lagSlots = value;
  }
  get lagRate(): number {
    return this.#values.lagRate;
  }
  set lagRate(value: number) {
    this.#values.lagRate = checkRate('lagRate', value);
  }
  get wsDropRate(): number {
    return this.#values.wsDropRate;
  }
  set wsDropRate(value: number) {
    this.#values.wsDropRate = checkRate('wsDropRate', value);
  }
  get wsDropAfterNotifications(): number | null {
    return this.#values.wsDropAfterNotifications;
  }
  set wsDropAfterNotifications(value: number | null) {
    this.#values.wsDropAfterNotifications = value === null ? null : checkCount('wsDropAfterNotifications', value);
  }
  get wsNotificationDelayMs(): number {
    return this.#values.wsNotificationDelayMs;
  }
  set wsNotificationDelayMs(value: number) {
    this.#values.wsNotificationDelayMs = checkCount('wsNotificationDelayMs', value);
  }

  /** Back to no faults at all. */
  clear(): void {
    this.#values = { ...NO_FAULTS };
  }
}

/** Seeded coin flips (mulberry32): the same seed and calls give the same faults. */
export class FaultDice {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** True with probability `rate`; a rate of 0 or 1 draws nothing. */
  roll(rate: number): boolean {
    if (rate <= 0) return false;
    if (rate >= 1) return true;
    return this.#next() < rate;
  }

  /** A draw uniform in [low, high). */
  between(low: number, high: number): number {
    return low + this.#next() * (high - low);
  }

  #next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
