// A keyed work queue with controller-runtime's contract (client-go's workqueue, in one class):
// - one entry per key: adding a queued key again does nothing, so a burst of watch events for
//   one object costs one reconcile;
// - a key is never handed to two workers at once: adding a key that is being processed marks it
//   dirty, and it is queued again (once) when the worker calls done();
// - delayed adds, earliest wins: a key waits in at most one place, so an event arriving while a
//   poll is scheduled makes the key ready now instead of reconciling it twice;
// - per-key exponential backoff for failures, reset by forget().
// Unlike client-go, get() returns undefined as soon as the queue shuts down, even if keys are
// still queued: the controller stops taking work, and whoever reconciles next (this process after
// a restart, or the new leader) relists every object from its informers anyway.
import type { WorkQueueMetrics } from './metrics.ts';

/** Time source and timers, so tests can move time by hand. */
export interface Clock {
  /** Milliseconds since an arbitrary origin; never goes backwards. */
  now(): number;
  /** Calls `callback` after `ms`; the returned function cancels it. */
  setTimer(callback: () => void, ms: number): () => void;
}

// setTimeout fires at once for delays above 2^31-1 ms. Waking a key early (after ~24.8 days) is
// harmless for level-based reconcilers, firing immediately in a loop is not.
const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer: (callback, ms) => {
    const timer = setTimeout(callback, Math.min(ms, MAX_TIMER_MS));
    return () => clearTimeout(timer);
  },
};

export interface BackoffSettings {
  baseMs: number;
  maxMs: number;
  /**
   * A ceiling on the retries of each namespace's keys together, client-go's default controller
   * rate limiter kept per tenant: `burst` retries at once, then `perSecond`. Without it, thousands
   * of objects failing together (a missing Secret they all name) retry faster than the workers can
   * serve them, and the keys with real work wait behind them. Per namespace, so one team's failing
   * objects only ever delay that team's retries, never another's.
   */
  overall?: { perSecond: number; burst: number };
}

/** The numbers: 5 ms doubling per consecutive failure, capped at 5 minutes; 10/s, burst 100 per namespace. */
export const DEFAULT_BACKOFF: BackoffSettings = { baseMs: 5, maxMs: 5 * 60_000, overall: { perSecond: 10, burst: 100 } };

// namespaces whose schedule is past are forgotten once this many are held
const SCHEDULES_KEPT = 1_000;

/**
 * Per-key exponential backoff: the n-th consecutive failure waits baseMs × 2^(n-1), at most maxMs;
 * with `overall`, longer when the retries of the key's namespace together would exceed its rate.
 * Keys are `namespace/name`; a key without a namespace shares the cluster's one schedule.
 */
export class ItemBackoff {
  private readonly settings: BackoffSettings;
  private readonly clock: Clock;
  private readonly failures = new Map<string, number>();
  /** Per namespace, when its rate would next allow a retry with no burst left (a virtual schedule). */
  private readonly nextSlotAt = new Map<string, number>();

  constructor(settings: BackoffSettings = DEFAULT_BACKOFF, clock: Clock = systemClock) {
    for (const field of ['baseMs', 'maxMs'] as const) {
      if (!Number.isFinite(settings[field]) || settings[field] <= 0) {
        throw new RangeError(`backoff.${field} must be a positive number of milliseconds, got ${settings[field]}`);
      }
    }
    if (settings.maxMs < settings.baseMs) {
      throw new RangeError(`backoff.maxMs (${settings.maxMs}) must not be below backoff.baseMs (${settings.baseMs})`);
    }
    for (const field of ['perSecond', 'burst'] as const) {
      const value = settings.overall?.[field];
      if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
        throw new RangeError(`backoff.overall.${field} must be a positive number, got ${value}`);
      }
    }
    this.settings = settings;
    this.clock = clock;
  }

  /** Records one more failure of `key` and returns how long to wait before retrying it. */
  next(key: string): number {
    const exponent = this.failures.get(key) ?? 0;
    this.failures.set(key, exponent + 1);
    // 2 ** exponent becomes Infinity long before the count could overflow; min() caps it.
    const own = Math.min(this.settings.maxMs, this.settings.baseMs * 2 ** exponent);
    return Math.max(own, this.overallDelay(key));
  }

  /**
   * Reserves one retry under the rate of `key`'s namespace and returns how long it must wait (0
   * while burst is left). Every retry takes the next slot of a schedule `1 / perSecond` apart; the
   * burst is how far ahead of now that schedule may run before retries have to wait for it.
   */
  private overallDelay(key: string): number {
    const overall = this.settings.overall;
    if (overall === undefined) return 0;
    const slash = key.indexOf('/');
    const namespace = slash < 0 ? '' : key.slice(0, slash);
    const interval = 1_000 / overall.perSecond;
    const now = this.clock.now();
    const slot = Math.max(this.nextSlotAt.get(namespace) ?? -Infinity, now);
    if (this.nextSlotAt.size >= SCHEDULES_KEPT) this.forgetPastSchedules(now);
    this.nextSlotAt.set(namespace, slot + interval);
    return Math.max(0, slot - now - (overall.burst - 1) * interval);
  }

  /** A schedule that has fallen behind now allows the full burst, exactly as a forgotten one does. */
  private forgetPastSchedules(now: number): void {
    for (const [namespace, at] of this.nextSlotAt) if (at <= now) this.nextSlotAt.delete(namespace);
  }

  failureCount(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Clears the failure count of `key`: its next failure waits baseMs again. */
  reset(key: string): void {
    this.failures.delete(key);
  }
}

export interface WorkQueueOptions {
  /** The `name` label of the workqueue_* metrics. */
  name: string;
  metrics?: WorkQueueMetrics;
  backoff?: BackoffSettings;
  clock?: Clock;
}

interface DelayedAdd {
  readyAt: number;
  cancel: () => void;
}

export class WorkQueue {
  readonly name: string;
  private readonly metrics: WorkQueueMetrics | undefined;
  private readonly clock: Clock;
  private readonly backoff: ItemBackoff;
  /** Keys waiting for a worker, oldest first (a Set keeps insertion order). */
  private readonly ready = new Set<string>();
  /** Keys that need processing: the ready ones, and processing ones added again meanwhile. */
  private readonly dirty = new Set<string>();
  /** Keys held by a worker, with the time it got them. */
  private readonly processing = new Map<string, number>();
  private readonly addedAt = new Map<string, number>();
  private readonly delayed = new Map<string, DelayedAdd>();
  private readonly getters: ((key: string | undefined) => void)[] = [];
  private readonly drainWaiters: (() => void)[] = [];
  private shuttingDown = false;

  constructor(options: WorkQueueOptions) {
    this.name = options.name;
    this.metrics = options.metrics;
    this.clock = options.clock ?? systemClock;
    this.backoff = new ItemBackoff(options.backoff, this.clock);
    this.metrics?.observe(() => this.gauges());
  }

  /** Keys waiting for a worker (not counting keys being processed or waiting for a delay). */
  get length(): number {
    return this.ready.size;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    this.cancelDelayed(key);
    if (this.dirty.has(key)) return;
    this.dirty.add(key);
    this.addedAt.set(key, this.clock.now());
    this.metrics?.added();
    if (this.processing.has(key)) return;
    this.makeReady(key);
  }

  /** Adds `key` after `ms`; if it is already queued or due sooner, the earlier time stands. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (!(ms > 0)) {
      this.add(key);
      return;
    }
    // Already ready, or re-queued the moment its worker finishes: that is sooner than any delay.
    if (this.dirty.has(key)) return;
    const readyAt = this.clock.now() + ms;
    const pending = this.delayed.get(key);
    if (pending !== undefined && pending.readyAt <= readyAt) return;
    pending?.cancel();
    const cancel = this.clock.setTimer(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { readyAt, cancel });
  }

  /** Adds `key` after its backoff delay, which doubles with each call until forget(key). */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    this.metrics?.retried();
    this.addAfter(key, this.backoff.next(key));
  }

  /** Resets the backoff of `key` (call it when `key` was processed successfully). */
  forget(key: string): void {
    this.backoff.reset(key);
  }

  /** How many times in a row `key` went through addRateLimited since the last forget. */
  failureCount(key: string): number {
    return this.backoff.failureCount(key);
  }

  /**
   * The next key to process, waiting until there is one; undefined once the queue shuts down.
   * The caller owns the key until it calls done(key).
   */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const next = this.ready.values().next();
    if (!next.done) {
      this.ready.delete(next.value);
      this.startProcessing(next.value);
      return Promise.resolve(next.value);
    }
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Releases a key taken with get(); if it was added meanwhile, it is queued again now. */
  done(key: string): void {
    const started = this.processing.get(key);
    if (started === undefined) throw new Error(`work queue ${this.name}: done("${key}") for a key that is not being processed`);
    this.processing.delete(key);
    this.metrics?.worked((this.clock.now() - started) / 1000);
    if (this.dirty.has(key) && !this.shuttingDown) this.makeReady(key);
    if (this.shuttingDown && this.processing.size === 0) this.drainWaiters.splice(0).forEach((resolve) => resolve());
  }

  /** Stops handing out keys (pending get() calls return undefined) and drops queued and delayed ones. */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const pending of this.delayed.values()) pending.cancel();
    this.delayed.clear();
    this.ready.clear();
    this.dirty.clear();
    this.addedAt.clear();
    this.getters.splice(0).forEach((resolve) => resolve(undefined));
  }

  /** shutDown(), then resolves once every key handed out has been released with done(). */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private makeReady(key: string): void {
    const getter = this.getters.shift();
    if (getter === undefined) {
      this.ready.add(key);
      return;
    }
    // Handed over synchronously, so no other get() can see the key in between.
    this.startProcessing(key);
    getter(key);
  }

  private startProcessing(key: string): void {
    const now = this.clock.now();
    this.dirty.delete(key);
    this.processing.set(key, now);
    const addedAt = this.addedAt.get(key);
    this.addedAt.delete(key);
    if (addedAt !== undefined) this.metrics?.queued((now - addedAt) / 1000);
  }

  private cancelDelayed(key: string): void {
    const pending = this.delayed.get(key);
    if (pending === undefined) return;
    pending.cancel();
    this.delayed.delete(key);
  }

  private gauges(): { depth: number; unfinishedWorkSeconds: number; longestRunningProcessorSeconds: number } {
    const now = this.clock.now();
    let unfinished = 0;
    let longest = 0;
    for (const started of this.processing.values()) {
      unfinished += now - started;
      longest = Math.max(longest, now - started);
    }
    return { depth: this.ready.size, unfinishedWorkSeconds: unfinished / 1000, longestRunningProcessorSeconds: longest / 1000 };
  }
}
