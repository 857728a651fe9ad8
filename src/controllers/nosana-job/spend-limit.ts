// A NosanaMarket's dailySpendLimit: the NOS this cluster's NosanaJobs pay into one market in any
// rolling 24 hours, and which market's limit governs a job. What counts is what was paid, when it
// was paid: the spend ledger (spend-ledger.ts) holds one entry per post and per extension, written
// before the money moves. Refunds do not give budget back (a delisted job was still paid for).
import { formatNos } from '../../chain/money.ts';
import type { NosanaJobObject } from '../../api/crds/nosana-job.ts';
import type { NosanaMarketObject } from '../../api/crds/nosana-market.ts';
import { refusal } from './refusal.ts';
import type { Refusal } from './refusal.ts';
import type { MarketReference } from './resolve.ts';
import { nosAmount } from './spec-values.ts';

export const SPEND_WINDOW_MS = 24 * 60 * 60_000;

export interface Spend {
  jobAddress?: string;
  at: Date;
  amount: bigint;
}

/**
 * The NosanaMarket whose dailySpendLimit governs a job's payments: its own namespace's market, or
 * a lending market only while that market's wallet is the one paying. Another namespace's market
 * has no say over a job that pays with its own wallet (it could otherwise block it with a tiny limit).
 */
export function limitingMarket(
  reference: Pick<MarketReference, 'object' | 'settingsFrom'>,
  job: NosanaJobObject,
): NosanaMarketObject | undefined {
  if (reference.settingsFrom !== undefined) return reference.settingsFrom;
  return job.spec.walletSecretRef === undefined ? reference.object : undefined;
}

/** The NosanaMarket's dailySpendLimit in base units; undefined when it sets none. */
export function dailySpendLimit(market: NosanaMarketObject | undefined): bigint | undefined {
  const text = market?.spec.dailySpendLimit;
  if (text === undefined) return undefined;
  return nosAmount(text, `NosanaMarket ${market?.metadata?.namespace}/${market?.metadata?.name} spec.dailySpendLimit`);
}

/**
 * Refuses a payment (a post's deposit, an extension) that would take the rolling day's spend past
 * `limit`, saying when it would fit. `what` names the payment in the message.
 */
export function spendLimitRefusal(
  spends: readonly Spend[],
  limit: bigint,
  deposit: bigint,
  now: Date,
  market: string,
  what = 'a deposit',
): Refusal | undefined {
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
  return refusal('SpendLimitReached', `${summary}; it fits again at ${retryAt.toISOString()}`, {
    afterMs: retryAt.getTime() - now.getTime() + 1_000,
  });
}
