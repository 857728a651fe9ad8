// A NosanaMarket's dailySpendLimit: the NOS this cluster's NosanaJobs pay into one market in any
// rolling 24 hours. What counts is what was paid, when it was paid: each posted attempt (and each
// post still being broadcast) counts price × timeout at the time it was posted. Refunds do not
// give budget back (a delisted job was still paid for), and raising a job's timeout pays an
// extension that price × the current timeout already includes.
//
// The status does not record each attempt's deposit, so it is recomputed: the job's recorded
// on-chain price (else the market's current one) × its current timeout. Because a timeout can only
// be raised and every raise is paid, that is what the attempt has cost at most; over-counting a
// raise that has not landed yet errs on the safe side of a limit. One gap remains: an extension is
// checked against the limit when it is paid (extend-guard.ts), but afterwards it counts at its
// attempt's post time, so an extension of a job posted over a day ago leaves the window at once.
import type { PublicKey } from '@solana/web3.js';
import { PENDING_POST_ANNOTATION } from '../../api/annotations.ts';
import type { NetworkName } from '../../chain/addresses.ts';
import type { MarketAccount } from '../../chain/accounts.ts';
import { parsePendingPost } from '../../chain/create-once.ts';
import type { MarketView } from '../../chain/jobs-client.ts';
import { formatNos } from '../../chain/money.ts';
import type { ObjectCache } from '../../runtime/types.ts';
import type { NosanaJobControllerDeps, NosanaJobObject, NosanaMarketObject } from './context.ts';
import { isRefusal, refusal } from './refusal.ts';
import type { Refusal } from './refusal.ts';
import { resolveMarketReference } from './resolve.ts';
import type { MarketReference } from './resolve.ts';
import { depositFor, jobTimeoutSeconds, nosAmount } from './spec-values.ts';

export const SPEND_WINDOW_MS = 24 * 60 * 60_000;

export interface Spend {
  jobAddress?: string;
  at: Date;
  amount: bigint;
}

function pendingPostOf(job: NosanaJobObject, now: Date): { jobAddress: string; preparedAt: string } | undefined {
  const text = job.metadata?.annotations?.[PENDING_POST_ANNOTATION];
  if (text === undefined) return job.status?.pendingPost;
  try {
    return parsePendingPost(text);
  } catch {
    // Unreadable: the job's own reconcile says so. A limit errs toward counting: the copy in
    // status, else a spend made now under a name of the object's own.
    return job.status?.pendingPost ?? { jobAddress: `unreadable record of ${job.metadata?.namespace}/${job.metadata?.name}`, preparedAt: now.toISOString() };
  }
}

function attemptDeposit(job: NosanaJobObject, market: MarketAccount, network: NetworkName): bigint {
  const price = job.status?.priceBaseUnits === undefined ? market.jobPrice : BigInt(job.status.priceBaseUnits);
  let timeout: bigint;
  try {
    timeout = jobTimeoutSeconds(job.spec, market);
  } catch {
    // A timeout the CRD let through but we cannot read: count the market's default.
    timeout = market.jobTimeout;
  }
  return depositFor(network, price, timeout);
}

/**
 * The market a job pays into: the one its status mirrors, else the one its spec names. A post
 * recorded just before a crash has its pending-post annotation but no status yet, and must count.
 */
function paysInto(job: NosanaJobObject, markets: ObjectCache<NosanaMarketObject>): string | undefined {
  if (job.status?.marketAddress !== undefined) return job.status.marketAddress;
  const reference = resolveMarketReference(job, markets);
  return isRefusal(reference) ? undefined : reference.address.toBase58();
}

/** What the cache shows this cluster's jobs paid into `marketAddress` (attempts and posts in flight). */
export function recordedSpends(
  jobs: readonly NosanaJobObject[], marketAddress: PublicKey, market: MarketAccount, network: NetworkName, markets: ObjectCache<NosanaMarketObject>, now = new Date(),
): Spend[] {
  const address = marketAddress.toBase58();
  const spends: Spend[] = [];
  for (const job of jobs) {
    // Adopting a job pays nothing: an adopted job counts against no one's limit.
    if (job.spec.jobAddress !== undefined || paysInto(job, markets) !== address) continue;
    const amount = attemptDeposit(job, market, network);
    const seen = new Set<string>();
    for (const attempt of job.status?.attempts ?? []) {
      if (attempt.postedAt === undefined || attempt.origin === 'adopted' || seen.has(attempt.jobAddress)) continue;
      seen.add(attempt.jobAddress);
      spends.push({ jobAddress: attempt.jobAddress, at: new Date(attempt.postedAt), amount });
    }
    const pending = pendingPostOf(job, now);
    if (pending !== undefined && !seen.has(pending.jobAddress)) spends.push({ jobAddress: pending.jobAddress, at: new Date(pending.preparedAt), amount });
  }
  return spends;
}

interface Reservation extends Spend {
  market: string;
}

/**
 * Posts this process has decided to make, kept until the cache shows them. Without it two jobs
 * reconciled at once (or one reconciled against a cache that has not seen its neighbour's post)
 * could both fit under the limit that only one of them fits under. A check and its reservation
 * happen with no await in between, so no other reconcile can slip between them.
 */
export class SpendLedger {
  readonly #byJob = new Map<string, Reservation>();

  reserve(jobKey: string, market: PublicKey, amount: bigint, at: Date): void {
    this.#byJob.set(jobKey, { market: market.toBase58(), amount, at });
  }

  /** The reservation became a recorded post: it now stands for that job address. */
  bind(jobKey: string, jobAddress: string): void {
    const reservation = this.#byJob.get(jobKey);
    if (reservation !== undefined) reservation.jobAddress = jobAddress;
  }

  /** The post was abandoned before recording, or it is known never to have landed. */
  release(jobKey: string): void {
    this.#byJob.delete(jobKey);
  }

  /**
   * The reservations on `market` not yet visible in `recorded`, except an unbound one of `jobKey`
   * itself (left by an earlier check of the same job that did not get as far as recording).
   */
  unrecorded(market: PublicKey, recorded: readonly Spend[], jobKey: string, now: Date): Spend[] {
    const known = new Set(recorded.map((spend) => spend.jobAddress));
    const address = market.toBase58();
    const result: Spend[] = [];
    for (const [key, reservation] of this.#byJob) {
      if (now.getTime() - reservation.at.getTime() > SPEND_WINDOW_MS) {
        this.#byJob.delete(key);
        continue;
      }
      if (reservation.market !== address || (reservation.jobAddress !== undefined && known.has(reservation.jobAddress))) continue;
      if (key === jobKey && reservation.jobAddress === undefined) continue;
      result.push(reservation);
    }
    return result;
  }
}

/**
 * The NosanaMarket whose dailySpendLimit governs a job's payments: its own namespace's market, or
 * a lending market only while that market's wallet is the one paying. Another namespace's market
 * has no say over a job that pays with its own wallet (it could otherwise block it with a tiny limit).
 */
export function limitingMarket(reference: Pick<MarketReference, 'object' | 'settingsFrom'>, job: NosanaJobObject): NosanaMarketObject | undefined {
  if (reference.settingsFrom !== undefined) return reference.settingsFrom;
  return job.spec.walletSecretRef === undefined ? reference.object : undefined;
}

/** The NosanaMarket's dailySpendLimit in base units; undefined when it sets none. */
export function dailySpendLimit(market: NosanaMarketObject | undefined): bigint | undefined {
  const text = market?.spec.dailySpendLimit;
  if (text === undefined) return undefined;
  return nosAmount(text, `NosanaMarket ${market?.metadata?.namespace}/${market?.metadata?.name} spec.dailySpendLimit`);
}

/** Every spend into `market` this process knows of: the cache's records and its own reservations not yet in them. */
export function knownSpends(
  deps: Pick<NosanaJobControllerDeps, 'jobs' | 'markets'>, ledger: SpendLedger, market: MarketView, network: NetworkName, jobKey: string, now: Date,
): Spend[] {
  const recorded = recordedSpends(deps.jobs.list(), market.address, market.account, network, deps.markets, now);
  return [...recorded, ...ledger.unrecorded(market.address, recorded, jobKey, now)];
}

/**
 * Refuses a payment (a post's deposit, an extension) that would take the rolling day's spend past
 * `limit`, saying when it would fit. `what` names the payment in the message.
 */
export function spendLimitRefusal(spends: readonly Spend[], limit: bigint, deposit: bigint, now: Date, market: string, what = 'a deposit'): Refusal | undefined {
  const since = now.getTime() - SPEND_WINDOW_MS;
  const inWindow = spends.filter((spend) => spend.at.getTime() > since).sort((a, b) => a.at.getTime() - b.at.getTime());
  const spent = inWindow.reduce((sum, spend) => sum + spend.amount, 0n);
  if (spent + deposit <= limit) return undefined;
  const summary = `this cluster's jobs paid ${formatNos(spent)} NOS into market ${market} in the last 24 h; ${what} of ${formatNos(deposit)} NOS would pass its dailySpendLimit of ${formatNos(limit)} NOS`;
  if (deposit > limit) return refusal('SpendLimitReached', `${summary}, and exceeds it on its own`, 'recheck');
  // The post fits once enough of the oldest spends have left the window (it fits in an empty one).
  let remaining = spent;
  let retryAt = now;
  for (const spend of inWindow) {
    if (remaining + deposit <= limit) break;
    remaining -= spend.amount;
    retryAt = new Date(spend.at.getTime() + SPEND_WINDOW_MS);
  }
  return refusal('SpendLimitReached', `${summary}; it fits again at ${retryAt.toISOString()}`, { afterMs: retryAt.getTime() - now.getTime() + 1_000 });
}
