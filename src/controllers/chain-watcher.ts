// The batched chain reader of one network, handed out by the network registry as part of each
// network's ports (network-ports.ts) rather than owned by one controller. Every NosanaJob that
// follows an on-chain job reads it through here instead of calling the RPC itself: all followed
// jobs are refreshed together (getMultipleAccounts by 100 plus one run query, inside
// JobsClient.getJobs), and reads arriving close together are merged into one batch, so N jobs cost
// a few requests per interval rather than N.
//
// Where the RPC serves a websocket, the watcher also subscribes to the job accounts of the wallets
// it follows and to the program's run accounts. A notification is never believed by itself: it
// marks the job changed, the job is read again at the notified slot or later, and only then are
// the NosanaJobs following it woken. A snapshot read after those subscriptions came into place (and
// after tracking began) with no change heard since stays fresh until the next resync instead of
// the poll interval. The resync poll always reads in full, so a notification the RPC never sent
// costs at most one resync interval of staleness. Once the socket drops, snapshots age out at the
// poll interval again and the poll resumes its pace. Without a socket (or with refused
// subscriptions), it is the batched poller alone.
import { PublicKey } from '@solana/web3.js';
import bs58 from 'bs58';
import type { Logger } from 'pino';
import { AccountDecodeError, OFFSETS } from '../chain/accounts.ts';
import { ACCOUNT_DISCRIMINATORS } from '../chain/idl.ts';
import type { JobView, JobsClient, MarketView, ReadOptions } from '../chain/jobs-client.ts';
import type { ProgramAccountNotice, ProgramFilter } from '../chain/program-subscription.ts';
import { retryDelayMs } from '../http/retry.ts';
import type { ObjectKey } from '../runtime/types.ts';
import { keyString } from '../runtime/types.ts';
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
  /** Builds the network's program subscriptions; without it the watcher only polls. */
  subscribe?: (handlers: SubscriptionHandlers) => ProgramSubscriptions;
  /** How often every tracked job is polled while the subscriptions are in place. Default: 30 s, or the poll interval if longer. */
  resyncIntervalMs?: number;
  /** Wakes a NosanaJob whose job changed (a notification, confirmed by a read). */
  wake?: (owner: ObjectKey) => void;
}

/** What the watcher needs of a program subscription (chain/program-subscription.ts's ProgramSubscriber). */
export interface ProgramSubscriptions {
  add(name: string, filters: ProgramFilter[]): void;
  /** Ends the subscription `name` (the connection goes with the last one). */
  remove(name: string): void;
  /** performance.now() when `name` came into place on the current connection; undefined while it is not. */
  activeSince(name: string): number | undefined;
  close(): void;
}

export interface SubscriptionHandlers {
  onNotice(notice: ProgramAccountNotice): void;
  onChange(): void;
}

const DEFAULT_BATCH_WINDOW_MS = 5;
const DEFAULT_RESYNC_INTERVAL_MS = 30_000;
/** Waits before reading a notified job again after a failed read (an RPC behind the notified slot). */
const REFRESH_RETRY = { attempts: Infinity, baseDelayMs: 200, maxDelayMs: 5_000 };
/**
 * Failed reads of one set of notified jobs before the notification is given up: its followers are
 * woken to read as they always do, so a slot no backend reaches (a wrong one, or an RPC stuck
 * behind) costs a few requests, not one every few seconds for good.
 */
const REFRESH_ATTEMPTS = 6;
const RUNS_SUBSCRIPTION = 'runs';
const jobsSubscription = (project: string) => `jobs:${project}`;

function memcmp(offset: number, bytes: Uint8Array): ProgramFilter {
  return { memcmp: { offset, bytes: bs58.encode(bytes) } };
}

/** A notified change not yet confirmed by a read: when it was heard, and the slot a read must have seen. */
interface Change {
  slot: number;
  /** Run accounts heard for the job: with the run it had, the only runs it can have now (a few at most). */
  runs: string[];
}

/** A job the watcher follows. */
interface TrackedJob {
  address: PublicKey;
  /** The NosanaJobs following it: woken when it changes. */
  owners: Map<string, ObjectKey>;
  /** The wallet that posted it, once read: its job accounts are subscribed to. */
  project?: string;
  /** performance.now() when tracking began: no notification about it was listened for before. */
  since: number;
  /** performance.now() of the last track() call: a job nobody asks about any more is let go. */
  touchedAt: number;
}

/** Runs remembered per notified job: a job has one run at a time, so a few cover any real sequence. */
const MAX_RUNS_HEARD = 4;
/** A tracked job nobody tracked again for this long (its NosanaJob moved to other settings, or went) is let go. */
const MIN_IDLE_MS = 10 * 60_000;

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
  readonly #load: (keys: PublicKey[]) => Promise<Map<string, V | Error>>;
  readonly #windowMs: number;
  readonly #pending = new Map<string, { key: PublicKey; waiters: Waiter<V>[] }>();
  #timer: NodeJS.Timeout | undefined;

  constructor(load: (keys: PublicKey[]) => Promise<Map<string, V | Error>>, windowMs: number) {
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
      for (const entry of batch) {
        // An Error in place of a value fails that key alone (an address that is no job account).
        const value = values.get(entry.key.toBase58());
        for (const waiter of entry.waiters)
          if (value instanceof Error) waiter.reject(value);
          else waiter.resolve(value as V);
      }
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
  readonly #resyncMs: number;
  readonly #idleMs: number;
  readonly #log: Logger | undefined;
  readonly #wake: ((owner: ObjectKey) => void) | undefined;
  readonly #tracked = new Map<string, TrackedJob>();
  /**
   * Who serves as each tracked node: woken when a run of that node is notified. Never pruned: it
   * holds one entry per node key this process served, and waking a deleted NosanaNode is a no-op.
   */
  readonly #nodes = new Map<string, Map<string, ObjectKey>>();
  readonly #changes = new Map<string, Change>();
  /** Tracked addresses that are no job account: kept out of batches, so they cannot fail everyone's read. */
  readonly #unreadable = new Map<string, Error>();
  readonly #jobSnapshots = new Map<string, Snapshot<JobView | undefined>>();
  readonly #marketSnapshots = new Map<string, Snapshot<MarketView | undefined>>();
  readonly #jobLoader: BatchLoader<JobView | undefined>;
  readonly #marketLoader: BatchLoader<MarketView | undefined>;
  readonly #subscriptions: ProgramSubscriptions | undefined;
  readonly #batchWindowMs: number;
  #timer: NodeJS.Timeout | undefined;
  #nextPollAt = 0;
  #refreshTimer: NodeJS.Timeout | undefined;
  #refreshing = false;
  #refreshFailures = 0;
  #closed = false;

  constructor(options: BatchedChainJobWatcherOptions) {
    if (!(options.pollIntervalMs > 0))
      throw new RangeError(`pollIntervalMs must be a positive number of milliseconds, got ${options.pollIntervalMs}`);
    this.#client = options.jobs;
    this.#intervalMs = options.pollIntervalMs;
    this.#resyncMs = Math.max(options.resyncIntervalMs ?? DEFAULT_RESYNC_INTERVAL_MS, options.pollIntervalMs);
    this.#idleMs = Math.max(MIN_IDLE_MS, 3 * options.pollIntervalMs);
    this.#log = options.log;
    this.#wake = options.wake;
    this.#batchWindowMs = options.batchWindowMs ?? DEFAULT_BATCH_WINDOW_MS;
    this.#jobLoader = new BatchLoader((keys) => this.#loadJobs(keys), this.#batchWindowMs);
    this.#marketLoader = new BatchLoader((keys) => this.#loadMarkets(keys), this.#batchWindowMs);
    this.#subscriptions = options.subscribe?.({
      onNotice: (notice) => this.#heard(notice),
      onChange: () => this.#subscriptionsChanged(),
    });
    this.#schedule();
  }

  track(address: PublicKey, owner?: ObjectKey): void {
    const id = address.toBase58();
    const now = performance.now();
    const tracked = this.#tracked.get(id) ?? { address, owners: new Map<string, ObjectKey>(), since: now, touchedAt: now };
    tracked.touchedAt = now;
    if (owner !== undefined) tracked.owners.set(keyString(owner), owner);
    this.#tracked.set(id, tracked);
    // Runs name their job, not its wallet: one subscription to every run of the program, matched here.
    this.#subscriptions?.add(RUNS_SUBSCRIPTION, [memcmp(0, ACCOUNT_DISCRIMINATORS.RunAccount)]);
  }

  trackNode(node: PublicKey, owner: ObjectKey): void {
    const id = node.toBase58();
    const owners = this.#nodes.get(id) ?? new Map<string, ObjectKey>();
    owners.set(keyString(owner), owner);
    this.#nodes.set(id, owners);
    this.#subscriptions?.add(RUNS_SUBSCRIPTION, [memcmp(0, ACCOUNT_DISCRIMINATORS.RunAccount)]);
  }

  forget(address: PublicKey): void {
    const id = address.toBase58();
    const project = this.#tracked.get(id)?.project;
    this.#tracked.delete(id);
    this.#changes.delete(id);
    this.#unreadable.delete(id);
    this.#jobSnapshots.delete(id);
    this.#releaseSubscriptions(project);
  }

  async job(address: PublicKey, options: { maxAgeMs?: number } = {}): Promise<JobView | undefined> {
    const id = address.toBase58();
    const snapshot = this.#jobSnapshots.get(id);
    const fresh = this.#fresh(snapshot, options.maxAgeMs ?? (this.#covered(id, snapshot) ? this.#resyncMs : this.#intervalMs));
    if (fresh !== undefined) return fresh.value;
    return this.#jobLoader.get(address);
  }

  async market(address: PublicKey, options: { maxAgeMs?: number } = {}): Promise<MarketView | undefined> {
    const fresh = this.#fresh(this.#marketSnapshots.get(address.toBase58()), options.maxAgeMs ?? this.#intervalMs);
    if (fresh !== undefined) return fresh.value;
    return this.#marketLoader.get(address);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#refreshTimer);
    this.#subscriptions?.close();
    this.#jobLoader.close();
    this.#marketLoader.close();
  }

  /**
   * One poll: every tracked job, then the markets of the queued ones (for queue positions). The
   * timer runs it every interval; tests call it to poll at a known moment.
   */
  async pollOnce(): Promise<void> {
    const tracked = [...this.#tracked.values()].map((job) => job.address);
    if (tracked.length === 0) return;
    const at = performance.now();
    // Always the full read, run query included: the poll is the safety net for a notification
    // never received, so it must not lean on the runs the subscription told of.
    const read = await this.#read(tracked, { full: true });
    this.#store(read, at);
    // Only queued jobs need their market (the mirror shows the queue position); a running job's market is no news.
    const queuedMarkets = new Map<string, PublicKey>();
    for (const view of read.values())
      if (!(view instanceof Error) && view?.status === 'QUEUED') queuedMarkets.set(view.account.market.toBase58(), view.account.market);
    const marketRequests = [...queuedMarkets.values()].map((market) => this.#marketLoader.get(market));
    await this.#marketLoader.flush();
    await Promise.all(marketRequests);
  }

  /** The subscription of the job's wallet and that of the program's runs were in place before `since` (and tracking had begun). */
  #listenedSince(tracked: TrackedJob | undefined, since: number, wallet: boolean): boolean {
    if (this.#subscriptions === undefined || tracked === undefined || since < tracked.since) return false;
    const runsSince = this.#subscriptions.activeSince(RUNS_SUBSCRIPTION);
    if (runsSince === undefined || since < runsSince) return false;
    if (!wallet) return true;
    const jobsSince = tracked.project === undefined ? undefined : this.#subscriptions.activeSince(jobsSubscription(tracked.project));
    return jobsSince !== undefined && since >= jobsSince;
  }

  /** Whether any change after `snapshot` would have been notified, and none was heard: the snapshot stands until the resync. */
  #covered(id: string, snapshot: Snapshot<unknown> | undefined): boolean {
    return snapshot !== undefined && !this.#changes.has(id) && this.#listenedSince(this.#tracked.get(id), snapshot.at, true);
  }

  /** Every subscription a tracked job needs is in place: the poll only resyncs. */
  #live(): boolean {
    if (this.#subscriptions === undefined || this.#subscriptions.activeSince(RUNS_SUBSCRIPTION) === undefined) return false;
    let projects = 0;
    for (const { project } of this.#tracked.values()) {
      if (project === undefined) continue;
      projects += 1;
      if (this.#subscriptions.activeSince(jobsSubscription(project)) === undefined) return false;
    }
    return projects > 0;
  }

  #fresh<V>(snapshot: Snapshot<V> | undefined, maxAgeMs: number): Snapshot<V> | undefined {
    return snapshot !== undefined && performance.now() - snapshot.at <= maxAgeMs ? snapshot : undefined;
  }

  async #loadJobs(keys: PublicKey[]): Promise<Map<string, JobView | undefined | Error>> {
    const at = performance.now();
    const views = await this.#read(keys, {});
    this.#store(views, at);
    return views;
  }

  /**
   * Reads jobs: at the slot of any change heard of them, or later, so an RPC backend behind it
   * cannot answer for it. A tracked job whose last snapshot was read while the runs subscription
   * listened can only have the run that snapshot showed or a run heard since: those are read with
   * the jobs in one getMultipleAccounts. Any other job, and every job of a poll (`full`), needs the
   * run query (JobsClient.getJobs). An address that is no job account fails alone, then stays out
   * of the batches.
   */
  async #read(
    addresses: readonly PublicKey[],
    options: { full?: boolean; minContextSlot?: number },
  ): Promise<Map<string, JobView | undefined | Error>> {
    const result = new Map<string, JobView | undefined | Error>();
    let minContextSlot = options.minContextSlot ?? 0;
    const known: PublicKey[] = [];
    const runs = new Map<string, PublicKey>();
    const unknown: PublicKey[] = [];
    for (const address of addresses) {
      const id = address.toBase58();
      const unreadable = this.#unreadable.get(id);
      if (unreadable !== undefined) {
        result.set(id, unreadable);
        continue;
      }
      const change = this.#changes.get(id);
      minContextSlot = Math.max(minContextSlot, change?.slot ?? 0);
      const snapshot = this.#jobSnapshots.get(id);
      if (options.full === true || snapshot === undefined || !this.#listenedSince(this.#tracked.get(id), snapshot.at, false)) {
        unknown.push(address);
        continue;
      }
      known.push(address);
      const previous = snapshot.value?.run?.address;
      if (previous !== undefined) runs.set(previous.toBase58(), previous);
      for (const run of change?.runs ?? []) runs.set(run, new PublicKey(run));
    }
    const readOptions: ReadOptions = minContextSlot > 0 ? { minContextSlot } : {};
    const [cheap, full] = await Promise.all([
      this.#isolating(known, (batch) => this.#client.getJobsWithRuns(batch, [...runs.values()], readOptions)),
      this.#isolating(unknown, (batch) => this.#client.getJobs(batch, readOptions)),
    ]);
    for (const [id, view] of [...cheap, ...full]) result.set(id, view);
    return result;
  }

  /** Reads `addresses` in one call; if one of them is no job account, each alone, so only it fails. */
  async #isolating(
    addresses: readonly PublicKey[],
    read: (batch: readonly PublicKey[]) => Promise<Map<string, JobView | undefined>>,
  ): Promise<Map<string, JobView | undefined | Error>> {
    if (addresses.length === 0) return new Map();
    try {
      return await read(addresses);
    } catch (error) {
      if (!(error instanceof AccountDecodeError)) throw error;
      if (addresses.length === 1) {
        this.#unreadable.set(addresses[0]!.toBase58(), error);
        return new Map([[addresses[0]!.toBase58(), error]]);
      }
      const views = new Map<string, JobView | undefined | Error>();
      for (const address of addresses) for (const [id, view] of await this.#isolating([address], read)) views.set(id, view);
      return views;
    }
  }

  #store(views: Map<string, JobView | undefined | Error>, at: number): void {
    for (const [id, value] of views) {
      if (value instanceof Error) continue;
      keepNewer(this.#jobSnapshots, id, { value, at });
      const tracked = this.#tracked.get(id);
      if (value === undefined || tracked === undefined || this.#subscriptions === undefined) continue;
      const project = value.account.project.toBase58();
      if (tracked.project === project) continue;
      const previous = tracked.project;
      tracked.project = project;
      this.#subscriptions.add(jobsSubscription(project), [
        memcmp(0, ACCOUNT_DISCRIMINATORS.JobAccount),
        memcmp(OFFSETS.job.project, new PublicKey(project).toBytes()),
      ]);
      this.#releaseSubscriptions(previous);
    }
  }

  /** Ends the wallet's subscription once no tracked job needs it, and the runs' once nothing is tracked. */
  #releaseSubscriptions(project: string | undefined): void {
    if (this.#subscriptions === undefined) return;
    if (project !== undefined && ![...this.#tracked.values()].some((job) => job.project === project)) {
      this.#subscriptions.remove(jobsSubscription(project));
    }
    if (this.#tracked.size === 0 && this.#nodes.size === 0) this.#subscriptions.remove(RUNS_SUBSCRIPTION);
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

  /**
   * A notification: the job it concerns (a job account, or the job a run names), if tracked, is
   * marked changed and read again; the node a run names, if tracked, is woken (its reconcile reads
   * the chain itself, so it needs no read here).
   */
  #heard(notice: ProgramAccountNotice): void {
    const { job, node } = OFFSETS.run;
    const isRun = notice.subscription === RUNS_SUBSCRIPTION;
    if (isRun && notice.data.length >= node + 32) {
      for (const owner of this.#nodes.get(bs58.encode(notice.data.subarray(node, node + 32)))?.values() ?? []) this.#wake?.(owner);
    }
    const id = !isRun ? notice.pubkey : notice.data.length >= job + 32 ? bs58.encode(notice.data.subarray(job, job + 32)) : undefined;
    if (id === undefined || !this.#tracked.has(id)) return;
    const heard = this.#changes.get(id);
    const runs = heard?.runs ?? [];
    this.#changes.set(id, {
      slot: Math.max(heard?.slot ?? 0, notice.slot),
      runs: isRun && !runs.includes(notice.pubkey) ? [...runs, notice.pubkey].slice(-MAX_RUNS_HEARD) : runs,
    });
    this.#refreshTimer ??= setTimeout(() => void this.#refresh(), this.#batchWindowMs).unref();
  }

  /**
   * Reads every job heard of at the latest notified slot or later, stores what it read, and wakes
   * their followers. A failed read (the RPC behind that slot, or down) is retried with backoff, a
   * few times: then the notification is given up and the followers read the job as they always do.
   */
  async #refresh(): Promise<void> {
    this.#refreshTimer = undefined;
    if (this.#closed || this.#refreshing) return;
    const heard = [...this.#changes.entries()];
    if (heard.length === 0) return;
    this.#refreshing = true;
    const at = performance.now();
    let retryInMs: number | undefined;
    try {
      const views = await this.#read(
        heard.map(([id]) => this.#tracked.get(id)?.address ?? new PublicKey(id)),
        {},
      );
      this.#store(views, at);
      this.#refreshFailures = 0;
      for (const [id, change] of heard) {
        // A change heard while reading is read again on the next round.
        if (this.#changes.get(id) === change) this.#changes.delete(id);
        this.#wakeFollowers(id);
      }
    } catch (error) {
      if (++this.#refreshFailures < REFRESH_ATTEMPTS) {
        retryInMs = retryDelayMs(this.#refreshFailures - 1, REFRESH_RETRY, undefined) ?? REFRESH_RETRY.maxDelayMs;
        this.#log?.debug({ err: error, jobs: heard.length, retryInMs }, 'reading notified jobs failed');
      } else {
        this.#log?.warn({ err: error, jobs: heard.length }, 'reading notified jobs kept failing; they are left to their polls');
        this.#refreshFailures = 0;
        for (const [id, change] of heard) {
          if (this.#changes.get(id) !== change) continue;
          // The snapshot predates the change: dropped, so the followers read the job anew.
          this.#changes.delete(id);
          this.#jobSnapshots.delete(id);
          this.#wakeFollowers(id);
        }
      }
    } finally {
      this.#refreshing = false;
    }
    if (this.#changes.size > 0) this.#refreshTimer ??= setTimeout(() => void this.#refresh(), retryInMs ?? this.#batchWindowMs).unref();
  }

  #wakeFollowers(id: string): void {
    for (const owner of this.#tracked.get(id)?.owners.values() ?? []) this.#wake?.(owner);
  }

  /** A subscription came or went. Gone: snapshots age at the poll interval again, so the poll resumes its pace now. */
  #subscriptionsChanged(): void {
    if (this.#closed || this.#live()) return;
    if (this.#nextPollAt - performance.now() > this.#intervalMs) {
      clearTimeout(this.#timer);
      this.#schedule(this.#intervalMs);
    }
  }

  #schedule(delayMs = this.#intervalMs): void {
    if (this.#closed) return;
    // A timer chain rather than setInterval, so a slow poll never overlaps the next one; the next
    // poll starts one interval after the previous one STARTED, so snapshots (timed from the start
    // of their read) are refreshed before reconciles polling at the same interval find them stale.
    this.#nextPollAt = performance.now() + delayMs;
    this.#timer = setTimeout(() => void this.#cycle(), delayMs).unref();
  }

  async #cycle(): Promise<void> {
    const started = performance.now();
    try {
      this.#letIdleGo();
      await this.pollOnce();
      this.#pruneUntracked();
    } catch (error) {
      // The next cycle retries; reconcilers asking meanwhile get the error from their own read.
      this.#log?.warn({ err: error, jobs: this.#tracked.size }, 'polling the chain for tracked jobs failed');
    } finally {
      const intervalMs = this.#live() ? this.#resyncMs : this.#intervalMs;
      this.#schedule(Math.max(0, intervalMs - (performance.now() - started)));
    }
  }

  // A NosanaJob tracks its job on every reconcile; one that stopped (its market's settings moved it
  // to another watcher, or it went without forgetting) would otherwise be polled, and keep its
  // wallet's subscription, for the life of the process.
  #letIdleGo(): void {
    const horizon = performance.now() - this.#idleMs;
    for (const job of [...this.#tracked.values()]) if (job.touchedAt < horizon) this.forget(job.address);
  }

  // Snapshots of jobs nobody tracks (read once, e.g. while deleting) are dropped once stale, so
  // memory follows the tracked set.
  #pruneUntracked(): void {
    const horizon = performance.now() - 2 * this.#intervalMs;
    for (const [id, snapshot] of this.#jobSnapshots) if (!this.#tracked.has(id) && snapshot.at < horizon) this.#jobSnapshots.delete(id);
    for (const [id, snapshot] of this.#marketSnapshots) if (snapshot.at < horizon) this.#marketSnapshots.delete(id);
  }
}
