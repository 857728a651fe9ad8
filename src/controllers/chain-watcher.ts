// The batched chain poller of one network, handed out by the network registry as part of each
// network's ports (network-ports.ts) rather than owned by one controller. Every NosanaJob that
// follows an on-chain job reads it through here instead of calling the RPC itself: all followed
// jobs are refreshed together each interval (getMultipleAccounts by 100 plus one run query, inside
// JobsClient.getJobs), and reads arriving close together are merged into one batch, so N jobs cost
// a few requests per interval rather than N. It wakes nobody: reconciles poll with requeueAfter
// and find a fresh snapshot.
import type { PublicKey } from '@solana/web3.js';
import type { Logger } from 'pino';
import type { JobView, JobsClient, MarketView } from '../chain/jobs-client.ts';
import type { ChainJobWatcher } from './network-ports.ts';

export interface BatchedChainJobWatcherOptions {
  jobs: JobsClient;
  /** How often every tracked job is polled; also the default freshness of job()/market(). */
  pollIntervalMs: number;
  log?: Logger;
  /**
   * How long a job()/market() read waits for others before the batch is sent. Reconciles run on
   * several workers and reach their reads a few milliseconds apart, so a short window batches
   * them where a single microtask would not.
   */
  batchWindowMs?: number;
}

const DEFAULT_BATCH_WINDOW_MS = 5;

interface Waiter<V> {
  resolve(value: V): void;
  reject(error: unknown): void;
}

/**
 * Merges the keys requested within one window into a single `load` call. A load already under
 * way is not shared: it was sent before the request, and a caller asking right after its own
 * transaction needs an answer sent after it.
 */
class BatchLoader<V> {
  readonly #load: (keys: PublicKey[]) => Promise<Map<string, V>>;
  readonly #windowMs: number;
  readonly #pending = new Map<string, { key: PublicKey; waiters: Waiter<V>[] }>();
  #timer: NodeJS.Timeout | undefined;

  constructor(load: (keys: PublicKey[]) => Promise<Map<string, V>>, windowMs: number) {
    this.#load = load;
    this.#windowMs = windowMs;
  }

  get(key: PublicKey): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      const id = key.toBase58();
      const entry = this.#pending.get(id) ?? { key, waiters: [] };
      entry.waiters.push({ resolve, reject });
      this.#pending.set(id, entry);
      this.#timer ??= setTimeout(() => void this.flush(), this.#windowMs).unref();
    });
  }

  /** Sends whatever is waiting now, without waiting for the window to close. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = [...this.#pending.values()];
    this.#pending.clear();
    if (batch.length === 0) return;
    try {
      const values = await this.#load(batch.map((entry) => entry.key));
      for (const entry of batch) for (const waiter of entry.waiters) waiter.resolve(values.get(entry.key.toBase58()) as V);
    } catch (error) {
      for (const entry of batch) for (const waiter of entry.waiters) waiter.reject(error);
    }
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const error = new Error('the chain watcher was closed');
    for (const entry of this.#pending.values()) for (const waiter of entry.waiters) waiter.reject(error);
    this.#pending.clear();
  }
}

interface Snapshot<V> {
  value: V;
  /** performance.now() when the read was sent: the data is at least this fresh. */
  at: number;
}

/**
 * Stores `snapshot` unless a read sent later already answered: a slow poll must not bring back the
 * state from before the operator's own transaction (its fresh read after ending or extending a
 * job), or the next reconcile would act on it again.
 */
function keepNewer<V>(snapshots: Map<string, Snapshot<V>>, id: string, snapshot: Snapshot<V>): void {
  const current = snapshots.get(id);
  if (current === undefined || current.at <= snapshot.at) snapshots.set(id, snapshot);
}

export class BatchedChainJobWatcher implements ChainJobWatcher {
  readonly #client: JobsClient;
  readonly #intervalMs: number;
  readonly #log: Logger | undefined;
  readonly #tracked = new Map<string, PublicKey>();
  readonly #jobSnapshots = new Map<string, Snapshot<JobView | undefined>>();
  readonly #marketSnapshots = new Map<string, Snapshot<MarketView | undefined>>();
  readonly #jobLoader: BatchLoader<JobView | undefined>;
  readonly #marketLoader: BatchLoader<MarketView | undefined>;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: BatchedChainJobWatcherOptions) {
    if (!(options.pollIntervalMs > 0))
      throw new RangeError(`pollIntervalMs must be a positive number of milliseconds, got ${options.pollIntervalMs}`);
    this.#client = options.jobs;
    this.#intervalMs = options.pollIntervalMs;
    this.#log = options.log;
    const windowMs = options.batchWindowMs ?? DEFAULT_BATCH_WINDOW_MS;
    this.#jobLoader = new BatchLoader((keys) => this.#loadJobs(keys), windowMs);
    this.#marketLoader = new BatchLoader((keys) => this.#loadMarkets(keys), windowMs);
    this.#schedule();
  }

  track(address: PublicKey): void {
    this.#tracked.set(address.toBase58(), address);
  }

  forget(address: PublicKey): void {
    const id = address.toBase58();
    this.#tracked.delete(id);
    this.#jobSnapshots.delete(id);
  }

  async job(address: PublicKey, options: { maxAgeMs?: number } = {}): Promise<JobView | undefined> {
    const fresh = this.#fresh(this.#jobSnapshots.get(address.toBase58()), options.maxAgeMs);
    if (fresh !== undefined) return fresh.value;
    return this.#jobLoader.get(address);
  }

  async market(address: PublicKey, options: { maxAgeMs?: number } = {}): Promise<MarketView | undefined> {
    const fresh = this.#fresh(this.#marketSnapshots.get(address.toBase58()), options.maxAgeMs);
    if (fresh !== undefined) return fresh.value;
    return this.#marketLoader.get(address);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#jobLoader.close();
    this.#marketLoader.close();
  }

  /**
   * One poll: every tracked job, then the markets of the queued ones (for queue positions). The
   * timer runs it every interval; tests call it to poll at a known moment.
   */
  async pollOnce(): Promise<void> {
    const tracked = [...this.#tracked.values()];
    if (tracked.length === 0) return;
    const requests = tracked.map((address) => this.#jobLoader.get(address));
    // Send at once: the poll is the batch; on-demand reads already waiting ride along.
    await this.#jobLoader.flush();
    const views = await Promise.all(requests);
    // Only queued jobs need their market (the mirror shows the queue position); a running job's market is no news.
    const queuedMarkets = new Map<string, PublicKey>();
    for (const view of views) if (view?.status === 'QUEUED') queuedMarkets.set(view.account.market.toBase58(), view.account.market);
    const marketRequests = [...queuedMarkets.values()].map((market) => this.#marketLoader.get(market));
    await this.#marketLoader.flush();
    await Promise.all(marketRequests);
  }

  #fresh<V>(snapshot: Snapshot<V> | undefined, maxAgeMs = this.#intervalMs): Snapshot<V> | undefined {
    return snapshot !== undefined && performance.now() - snapshot.at <= maxAgeMs ? snapshot : undefined;
  }

  async #loadJobs(keys: PublicKey[]): Promise<Map<string, JobView | undefined>> {
    const at = performance.now();
    const views = await this.#client.getJobs(keys);
    for (const [id, value] of views) keepNewer(this.#jobSnapshots, id, { value, at });
    return views;
  }

  // JobsClient reads markets one account at a time; a network has few markets, so this is one
  // request per distinct market per batch, not per job.
  async #loadMarkets(keys: PublicKey[]): Promise<Map<string, MarketView | undefined>> {
    const at = performance.now();
    const markets = await Promise.all(keys.map((key) => this.#client.getMarket(key)));
    const views = new Map(keys.map((key, index) => [key.toBase58(), markets[index]]));
    for (const [id, value] of views) keepNewer(this.#marketSnapshots, id, { value, at });
    return views;
  }

  #schedule(delayMs = this.#intervalMs): void {
    if (this.#closed) return;
    // A timer chain rather than setInterval, so a slow poll never overlaps the next one; the next
    // poll starts one interval after the previous one STARTED, so snapshots (timed from the start
    // of their read) are refreshed before reconciles polling at the same interval find them stale.
    this.#timer = setTimeout(() => void this.#cycle(), delayMs).unref();
  }

  async #cycle(): Promise<void> {
    const started = performance.now();
    try {
      await this.pollOnce();
      this.#pruneUntracked();
    } catch (error) {
      // The next cycle retries; reconcilers asking meanwhile get the error from their own read.
      this.#log?.warn({ err: error, jobs: this.#tracked.size }, 'polling the chain for tracked jobs failed');
    } finally {
      this.#schedule(Math.max(0, this.#intervalMs - (performance.now() - started)));
    }
  }

  // Snapshots of jobs nobody tracks (read once, e.g. while deleting) are dropped once stale, so
  // memory follows the tracked set.
  #pruneUntracked(): void {
    const horizon = performance.now() - 2 * this.#intervalMs;
    for (const [id, snapshot] of this.#jobSnapshots) if (!this.#tracked.has(id) && snapshot.at < horizon) this.#jobSnapshots.delete(id);
    for (const [id, snapshot] of this.#marketSnapshots) if (snapshot.at < horizon) this.#marketSnapshots.delete(id);
  }
}
