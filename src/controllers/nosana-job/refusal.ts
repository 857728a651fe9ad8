// Why a NosanaJob is not posted (yet), and when to look again. Every refusal happens before
// anything is pinned or paid; the status says why and the requeue says when it is worth retrying.
import type { BackoffSettings } from '../../runtime/work-queue.ts';

export type PendingReason =
  | 'Pending'
  | 'InvalidDefinition'
  | 'OverBudget'
  | 'InsufficientFunds'
  | 'MarketQueueFull'
  | 'MarketNotFound'
  | 'WalletUnavailable'
  | 'DefinitionUnavailable'
  | 'SpendLimitReached'
  | 'MarketDisabled'
  | 'PublicCredentials'
  | 'WalletNotAllowed';

/**
 * - `backoff`: the world may fix itself (a Secret created, a wallet funded, an RPC back): retry
 *   with a per-object delay that grows, not in a hot loop;
 * - `recheck`: it depends on chain state that raises no Kubernetes event (price, a disabled
 *   market) or on another namespace's objects: look again now and then;
 * - `edit`: only a change of the NosanaJob itself can fix it, and that change triggers a reconcile;
 * - a number: a known time to try again (a rolling spend window reopening, a queue draining).
 */
export type RetryPolicy = 'backoff' | 'recheck' | 'edit' | { afterMs: number };

export interface Refusal {
  refused: true;
  /** A post's refusal is shown as phase Pending with this reason; a landed job over budget is taken back. */
  reason: PendingReason | 'PriceAboveMaxCost';
  message: string;
  retry: RetryPolicy;
}

export function refusal(reason: Refusal['reason'], message: string, retry: RetryPolicy): Refusal {
  return { refused: true, reason, message, retry };
}

export function isRefusal(value: unknown): value is Refusal {
  return typeof value === 'object' && value !== null && (value as Partial<Refusal>).refused === true;
}

const RECHECK_MS = 5 * 60_000;

/**
 * The delays of `backoff` refusals, per object: 1 s doubling to 5 min, and at most 10 retries a
 * second per namespace after a burst of 100 (client-go's defaults, kept per tenant), so thousands
 * of refused jobs do not starve the ones being posted, and one team's refusals never delay
 * another team's retries. The ItemBackoff holding the counts lives in memory: after a restart the
 * first retry is quick again, which is what a restart should do.
 */
export const REFUSAL_BACKOFF: BackoffSettings = { baseMs: 1_000, maxMs: 5 * 60_000, overall: { perSecond: 10, burst: 100 } };

/** When to look again after a refusal: its retry policy as a decision's requeue. */
export function retryOf(policy: RetryPolicy): { afterMs?: number; backoff?: true } {
  if (policy === 'edit') return {};
  if (policy === 'recheck') return { afterMs: RECHECK_MS };
  if (policy === 'backoff') return { backoff: true };
  return { afterMs: Math.max(1_000, policy.afterMs) };
}
