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
// the NosanaJobs following it woken. While the subscriptions are in place a snapshot read after
// they came into place stays fresh until the next resync, since any change would have been
// notified; once the socket drops, snapshots age out at the poll interval again and the poll
// resumes its pace. Without a socket (or refused subscriptions), it is the batched poller alone.
import { PublicKey } from '@solana/web3.js';
import bs58 from 'bs58';
import type { Logger } from 'pino';
import { OFFSETS } from '../chain/accounts.ts';
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
  heardAt: number;
  slot: number;
  /** Run accounts heard for the job: with the run it had, the only runs it can have now. */
  runs: string[];
}

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
  readonly #resyncMs: number;
  readonly #log: Logger | undefined;
  readonly #wake: ((owner: ObjectKey) => void) | undefined;
  readonly #tracked = new Map<string, PublicKey>();
  /** Who follows each tracked job: woken when it changes. */
  readonly #owners = new Map<string, Map<string, ObjectKey>>();
  /**
   * Who serves as each tracked node: woken when a run of that node is notified. Never pruned: it
   * holds one entry per node key this process served, and waking a deleted NosanaNode is a no-op.
   */
  readonly #nodes = new Map<string, Map<string, ObjectKey>>();
  /** The wallet that posted each tracked job, once read: its job accounts are subscribed to. */
  readonly #projects = new Map<string, string>();
  readonly #changes = new Map<string, Change>();
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
    this.#tracked.set(id, address);
    if (owner !== undefined) {
      const owners = this.#owners.get(id) ?? new Map<string, ObjectKey>();
      owners.set(keyString(owner), owner);
      this.#owners.set(id, owners);
    }
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
    this.#tracked.delete(id);
    this.#owners.delete(id);
    this.#projects.delete(id);
    this.#changes.delete(id);
    this.#jobSnapshots.delete(id);
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
    const tracked = [...this.#tracked.values()];
    if (tracked.length === 0) return;
    const at = performance.now();
    // Always the full read, run query included: the poll is the safety net for a notification
    // never received, so it must not lean on the runs the subscription told of.
    const read = await this.#client.getJobs(tracked);
    this.#store(read, at);
    const views = [...read.values()];
    // Only queued jobs need their market (the mirror shows the queue position); a running job's market is no news.
    const queuedMarkets = new Map<string, PublicKey>();
    for (const view of views) if (view?.status === 'QUEUED') queuedMarkets.set(view.account.market.toBase58(), view.account.market);
    const marketRequests = [...queuedMarkets.values()].map((market) => this.#marketLoader.get(market));
    await this.#marketLoader.flush();
    await Promise.all(marketRequests);
  }

  /** Whether the subscriptions of the job and its runs are live and were in place before `snapshot` was read, with no change heard since. */
  #covered(id: string, snapshot: Snapshot<unknown> | undefined): boolean {
    if (this.#subscriptions === undefined || snapshot === undefined || this.#changes.has(id)) return false;
    const project = this.#projects.get(id);
    if (project === undefined) return false;
    const runsSince = this.#subscriptions.activeSince(RUNS_SUBSCRIPTION);
    const jobsSince = this.#subscriptions.activeSince(jobsSubscription(project));
    return runsSince !== undefined && jobsSince !== undefined && snapshot.at >= Math.max(runsSince, jobsSince);
  }

  /** Every subscription a tracked job needs is in place: the poll only resyncs. */
  #live(): boolean {
    if (this.#subscriptions === undefined || this.#subscriptions.activeSince(RUNS_SUBSCRIPTION) === undefined) return false;
    for (const project of new Set(this.#projects.values()))
      if (this.#subscriptions.activeSince(jobsSubscription(project)) === undefined) return false;
    return this.#projects.size > 0;
  }

  #fresh<V>(snapshot: Snapshot<V> | undefined, maxAgeMs: number): Snapshot<V> | undefined {
    return snapshot !== undefined && performance.now() - snapshot.at <= maxAgeMs ? snapshot : undefined;
  }

  async #loadJobs(keys: PublicKey[]): Promise<Map<string, JobView | undefined>> {
    const at = performance.now();
    const views = await this.#read(keys, {});
    this.#store(views, at);
    return views;
  }

  /**
   * Reads jobs. A job whose last snapshot was read while the runs subscription was in place can
   * only have the run that snapshot showed or a run heard since: those are read with the jobs in
   * one getMultipleAccounts. Any other job needs the run query (JobsClient.getJobs).
   */
  async #read(addresses: readonly PublicKey[], options: ReadOptions): Promise<Map<string, JobView | undefined>> {
    const runsSince = this.#subscriptions?.activeSince(RUNS_SUBSCRIPTION);
    const known: PublicKey[] = [];
    const runs = new Map<string, PublicKey>();
    const unknown: PublicKey[] = [];
    for (const address of addresses) {
      const id = address.toBase58();
      const snapshot = this.#jobSnapshots.get(id);
      if (runsSince === undefined || snapshot === undefined || snapshot.at < runsSince) {
        unknown.push(address);
        continue;
      }
      known.push(address);
      const previous = snapshot.value?.run?.address;
      if (previous !== undefined) runs.set(previous.toBase58(), previous);
      for (const run of this.#changes.get(id)?.runs ?? []) runs.set(run, new PublicKey(run));
    }
    const none = new Map<string, JobView | undefined>();
    const [cheap, full] = await Promise.all([
      known.length === 0 ? none : this.#client.getJobsWithRuns(known, [...runs.values()], options),
      unknown.length === 0 ? none : this.#client.getJobs(unknown, options),
    ]);
    return new Map([...cheap, ...full]);
  }

  #store(views: Map<string, JobView | undefined>, at: number): void {
    for (const [id, value] of views) {
      keepNewer(this.#jobSnapshots, id, { value, at });
      if (value === undefined || !this.#tracked.has(id) || this.#subscriptions === undefined) continue;
      const project = value.account.project.toBase58();
      if (this.#projects.get(id) === project) continue;
      this.#projects.set(id, project);
      this.#subscriptions.add(jobsSubscription(project), [
        memcmp(0, ACCOUNT_DISCRIMINATORS.JobAccount),
        memcmp(OFFSETS.job.project, new PublicKey(project).toBytes()),
      ]);
    }
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
    const runs = isRun && !(heard?.runs ?? []).includes(notice.pubkey) ? [...(heard?.runs ?? []), notice.pubkey] : (heard?.runs ?? []);
    this.#changes.set(id, { heardAt: performance.now(), slot: Math.max(heard?.slot ?? 0, notice.slot), runs });
    this.#refreshTimer ??= setTimeout(() => void this.#refresh(), this.#batchWindowMs).unref();
  }

  /**
   * Reads every job heard of at the latest notified slot or later, stores what it read, and wakes
   * their followers. A failed read (the RPC behind that slot, or down) is retried with backoff.
   */
  async #refresh(): Promise<void> {
    this.#refreshTimer = undefined;
    if (this.#closed || this.#refreshing) return;
    const heard = [...this.#changes.entries()];
    if (heard.length === 0) return;
    this.#refreshing = true;
    const at = performance.now();
    try {
      const minContextSlot = Math.max(...heard.map(([, change]) => change.slot));
      const views = await this.#read(
        heard.map(([id]) => this.#tracked.get(id) ?? new PublicKey(id)),
        { minContextSlot },
      );
      this.#store(views, at);
      this.#refreshFailures = 0;
      for (const [id, change] of heard) {
        // A change heard while reading is read again on the next round.
        if (this.#changes.get(id) === change) this.#changes.delete(id);
        for (const owner of this.#owners.get(id)?.values() ?? []) this.#wake?.(owner);
      }
    } catch (error) {
      if (++this.#refreshFailures >= REFRESH_ATTEMPTS) {
        this.#log?.warn({ err: error, jobs: heard.length }, 'reading notified jobs kept failing; they are left to their polls');
        this.#refreshFailures = 0;
        for (const [id, change] of heard) {
          if (this.#changes.get(id) !== change) continue;
          // The snapshot predates the change: dropped, so the followers read the job anew.
          this.#changes.delete(id);
          this.#jobSnapshots.delete(id);
          for (const owner of this.#owners.get(id)?.values() ?? []) this.#wake?.(owner);
        }
        return;
      }
      const waitMs = retryDelayMs(this.#refreshFailures - 1, REFRESH_RETRY, undefined) ?? REFRESH_RETRY.maxDelayMs;
      this.#log?.debug({ err: error, jobs: heard.length, retryInMs: waitMs }, 'reading notified jobs failed');
      this.#refreshTimer ??= setTimeout(() => void this.#refresh(), waitMs).unref();
      return;
    } finally {
      this.#refreshing = false;
    }
    if (this.#changes.size > 0) this.#refreshTimer ??= setTimeout(() => void this.#refresh(), this.#batchWindowMs).unref();
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

  // Snapshots of jobs nobody tracks (read once, e.g. while deleting) are dropped once stale, so
  // memory follows the tracked set.
  #pruneUntracked(): void {
    const horizon = performance.now() - 2 * this.#intervalMs;
    for (const [id, snapshot] of this.#jobSnapshots) if (!this.#tracked.has(id) && snapshot.at < horizon) this.#jobSnapshots.delete(id);
    for (const [id, snapshot] of this.#marketSnapshots) if (snapshot.at < horizon) this.#marketSnapshots.delete(id);
  }
}
