// The NosanaMarket reconciler: mirrors a market account into the resource's status every refresh
// interval, and keeps the counts of this cluster's NosanaJobs on it current.
//
// Chain reads are rationed per market: NosanaJob changes wake the market (its counts may have
// moved) but only re-read the chain when the refresh interval has passed, so a thousand jobs do
// not cost a thousand getAccountInfo calls. Status writes follow the same rule as every writer
// here: nothing is written when nothing changed. `lastRefreshed` is the one field that would
// change on every read, so it is stamped only when something else changes, and otherwise at most
// every LAST_REFRESHED_HEARTBEAT_MS: an idle market costs a dozen writes an hour instead of one
// per read, and lastRefreshed is always the time of a real read, at most that old while Ready.
import { isDeepStrictEqual } from 'node:util';
import { PublicKey } from '@solana/web3.js';
import type { NosanaJobObject } from '../../api/crds/nosana-job.ts';
import type { NosanaMarketObject, NosanaMarketStatus } from '../../api/crds/nosana-market.ts';
import { AccountDecodeError } from '../../chain/accounts.ts';
import type { MarketView } from '../../chain/jobs-client.ts';
import { findCondition } from '../../runtime/conditions.ts';
import { isoSeconds } from '../../runtime/kube-time.ts';
import type {
  EventRecorder,
  KubeWriter,
  ObjectCache,
  ObjectKey,
  ReconcileContext,
  ReconcileOutcome,
  Reconciler,
} from '../../runtime/types.ts';
import { keyString, refOf } from '../../runtime/types.ts';
import { ItemBackoff } from '../../runtime/work-queue.ts';
import type { NetworkRegistry, NetworkSettings } from '../network-ports.ts';
import { NetworkSettingsError } from '../network-settings.ts';
import { applyPhase } from '../phase.ts';
import { MarketDirectoryUnavailableError, UnknownMarketSlugError } from './directory.ts';
import type { MarketDirectory } from './directory.ts';
import { parseDuration } from '../../api/duration.ts';
import { countByPhase, jobsOfMarket } from './market-jobs.ts';
import { mirrorMarket, withoutMirroredFields } from './market-status.ts';

/** Each refresh lands within ±10 % of the interval, so markets created together do not read together. */
const JITTER = 0.1;
/** The longest lastRefreshed goes without being rewritten while the market reads fine. */
export const LAST_REFRESHED_HEARTBEAT_MS = 5 * 60_000;
/** Retries of an unreachable RPC or directory: 1 s doubling, never later than the next refresh. */
const RETRY_BACKOFF = { baseMs: 1_000, maxMs: 5 * 60_000 };

export interface NosanaMarketControllerDeps {
  markets: ObjectCache<NosanaMarketObject>;
  jobs: ObjectCache<NosanaJobObject>;
  writer: KubeWriter;
  events: EventRecorder;
  networks: NetworkRegistry;
  settingsFor(market: NosanaMarketObject | undefined, namespace: string): Promise<NetworkSettings>;
  directory: Pick<MarketDirectory, 'resolve'>;
  now(): Date;
  /** In [0, 1): spreads refreshes (default Math.random). */
  random?: () => number;
}

/** Trouble reaching the market: the last values stay and the read is retried with backoff. */
type RetriedReason = 'RpcUnavailable' | 'DirectoryUnavailable' | 'SettingsInvalid';

type ReadOutcome =
  | { reason: 'Synced'; view: MarketView; slugResolvedFrom?: string }
  | { reason: 'MarketNotFound' | RetriedReason; message: string; address?: string };

/** What this process last did for a market (lost on restart, which only costs one early read). */
interface MarketRecord {
  uid: string | undefined;
  generation: number | undefined;
  /** deps.now() milliseconds at which the chain is read again. */
  nextReadAt: number;
  /** The status last applied: newer than the cache until the watch delivers it. */
  status: NosanaMarketStatus;
}

/** What JSON (and so the API server) keeps of a status: undefined fields vanish. */
function sameStatus(a: NosanaMarketStatus, b: NosanaMarketStatus): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
}

function marketName(market: NosanaMarketObject): string {
  return market.spec.address ?? `slug "${market.spec.slug ?? ''}"`;
}

export class NosanaMarketReconciler implements Reconciler {
  readonly name = 'nosanamarket';
  readonly #deps: NosanaMarketControllerDeps;
  readonly #random: () => number;
  readonly #records = new Map<string, MarketRecord>();
  readonly #retries = new ItemBackoff(RETRY_BACKOFF);

  constructor(deps: NosanaMarketControllerDeps) {
    this.#deps = deps;
    this.#random = deps.random ?? Math.random;
  }

  async reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileOutcome | undefined> {
    const id = keyString(key);
    const market = this.#deps.markets.get(key);
    if (market === undefined) {
      this.#records.delete(id);
      this.#retries.reset(id);
      return undefined;
    }
    const now = this.#deps.now();
    const { uid, generation } = market.metadata ?? {};
    const cached = market.status ?? {};
    const record = this.#records.get(id);
    const known = record !== undefined && record.uid === uid && record.generation === generation ? record : undefined;
    // Build on what this process last applied, not on the cache: a job event can arrive before the
    // watch delivers our own last write, and a status built from the older copy would undo it.
    // Writes are still skipped only when the cache already shows the result.
    const latest = known?.status ?? cached;
    const counts = countByPhase(jobsOfMarket(market, this.#deps.jobs));
    if (known !== undefined && now.getTime() < known.nextReadAt) {
      // Woken before the next read (a NosanaJob changed): only the counts can have moved.
      known.status = { ...latest, jobs: counts };
      await this.#deps.writer.applyStatus(refOf(market), known.status, cached);
      return { requeueAfterMs: known.nextReadAt - now.getTime() };
    }

    let current = latest;
    if (latest.observedGeneration !== generation) current = await this.#markRefreshing(market, latest, cached, counts, now);
    const outcome = await this.#read(market, context.signal);
    const intervalMs = parseDuration(market.spec.refreshInterval, `NosanaMarket ${id} spec.refreshInterval`);
    let next: NosanaMarketStatus;
    let delayMs: number;
    if (outcome.reason === 'Synced') {
      const mirrored = mirrorMarket(outcome.view);
      const base = {
        ...withoutMirroredFields(current),
        ...mirrored,
        ...(outcome.slugResolvedFrom === undefined ? {} : { slugResolvedFrom: outcome.slugResolvedFrom }),
        jobs: counts,
      };
      const message = `mirrors market ${mirrored.address ?? ''} on ${market.spec.network}`;
      next = this.#stampRefreshed(applyPhase('NosanaMarket', base, undefined, 'Synced', message, generation, now), current, now);
      this.#retries.reset(id);
      delayMs = intervalMs * (1 - JITTER + 2 * JITTER * this.#random());
      if (
        current.jobPriceBaseUnits !== undefined &&
        current.address === mirrored.address &&
        current.jobPriceBaseUnits !== mirrored.jobPriceBaseUnits
      ) {
        this.#deps.events.record(
          market,
          'Normal',
          'PriceChanged',
          'Refresh',
          `the job price changed from ${current.jobPrice ?? '?'} to ${mirrored.jobPrice ?? '?'} NOS/s`,
        );
      }
    } else {
      // After an RPC failure the last values stay while they describe the market being read; a
      // market that is not found has no values.
      const sameMarket = outcome.reason !== 'MarketNotFound' && (outcome.address === undefined || outcome.address === current.address);
      const base = sameMarket
        ? { ...current }
        : { ...withoutMirroredFields(current), ...(outcome.address === undefined ? {} : { address: outcome.address }) };
      next = applyPhase('NosanaMarket', { ...base, jobs: counts }, undefined, outcome.reason, outcome.message, generation, now);
      delayMs = outcome.reason !== 'MarketNotFound' ? Math.min(this.#retries.next(id), intervalMs) : intervalMs;
      if (outcome.reason === 'MarketNotFound') this.#retries.reset(id);
      context.log.warn({ reason: outcome.reason }, outcome.message);
    }
    await this.#deps.writer.applyStatus(refOf(market), next, cached);
    this.#records.set(id, { uid, generation, nextReadAt: now.getTime() + delayMs, status: next });
    this.#recordTransition(market, latest, next);
    return { requeueAfterMs: delayMs };
  }

  /**
   * A new or edited spec: say so at once (kstatus reads Ready=False with the new
   * observedGeneration as "in progress"), before a read that may take a while. Values of another
   * market must not outlive the edit, so they are kept only when the spec names the same address.
   */
  async #markRefreshing(
    market: NosanaMarketObject,
    current: NosanaMarketStatus,
    cached: NosanaMarketStatus,
    counts: NosanaMarketStatus['jobs'],
    now: Date,
  ): Promise<NosanaMarketStatus> {
    const keep = market.spec.address !== undefined && market.spec.address === current.address;
    const base = { ...(keep ? current : withoutMirroredFields(current)), jobs: counts };
    const next = applyPhase(
      'NosanaMarket',
      base,
      undefined,
      'Refreshing',
      `reading market ${marketName(market)} on ${market.spec.network}`,
      market.metadata?.generation,
      now,
    );
    await this.#deps.writer.applyStatus(refOf(market), next, cached);
    return next;
  }

  async #read(market: NosanaMarketObject, signal: AbortSignal): Promise<ReadOutcome> {
    const { spec } = market;
    let address = spec.address;
    let slugResolvedFrom: string | undefined;
    try {
      if (address === undefined) {
        const resolved = await this.#deps.directory.resolve(spec.network, spec.slug ?? '', signal);
        address = resolved.address;
        slugResolvedFrom = resolved.url;
      }
      const settings = await this.#deps.settingsFor(market, market.metadata?.namespace ?? '');
      const view = await this.#deps.networks.ports(settings).jobs.getMarket(new PublicKey(address));
      if (view === undefined) return { reason: 'MarketNotFound', message: `no market account at ${address} on ${spec.network}`, address };
      return { reason: 'Synced', view, ...(slugResolvedFrom === undefined ? {} : { slugResolvedFrom }) };
    } catch (error) {
      const detail = (error as Error).message;
      const where = address === undefined ? {} : { address };
      if (error instanceof UnknownMarketSlugError) return { reason: 'MarketNotFound', message: detail };
      if (error instanceof AccountDecodeError)
        return { reason: 'MarketNotFound', message: `${address ?? ''} is not a market account: ${detail}`, ...where };
      if (error instanceof MarketDirectoryUnavailableError) return { reason: 'DirectoryUnavailable', message: detail };
      if (error instanceof NetworkSettingsError) return { reason: 'SettingsInvalid', message: detail, ...where };
      // Everything else is taken for trouble reaching the network (the RPC down, an RPC serving
      // another network): retried with backoff. Guessing
      // "not found" from an unknown error would mark a market Stalled over a passing 503.
      const message = address === undefined ? detail : `cannot read market ${address} on ${spec.network}: ${detail}`;
      return { reason: 'RpcUnavailable', message, ...where };
    }
  }

  /** Stamps the read time only when something else changed or the heartbeat is due (see the header). */
  #stampRefreshed(next: NosanaMarketStatus, current: NosanaMarketStatus, now: Date): NosanaMarketStatus {
    const { lastRefreshed } = current;
    const unchanged = sameStatus({ ...next, lastRefreshed }, current);
    const heartbeatDue = lastRefreshed === undefined || now.getTime() - Date.parse(lastRefreshed) >= LAST_REFRESHED_HEARTBEAT_MS;
    return unchanged && !heartbeatDue ? { ...next, lastRefreshed } : { ...next, lastRefreshed: isoSeconds(now) };
  }

  /** An Event when Ready's reason changes (the recorder de-duplicates repeats). */
  #recordTransition(market: NosanaMarketObject, before: NosanaMarketStatus, after: NosanaMarketStatus): void {
    const previous = findCondition(before.conditions, 'Ready')?.reason;
    const ready = findCondition(after.conditions, 'Ready');
    if (ready === undefined || ready.reason === previous) return;
    this.#deps.events.record(market, ready.status === 'True' ? 'Normal' : 'Warning', ready.reason, 'Refresh', ready.message);
  }
}
