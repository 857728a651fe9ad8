// Why a NosanaJob is not posted (yet), and when to look again. Every refusal happens before
// anything is pinned or paid; the status says why and the requeue says when it is worth retrying.
import type { BackoffSettings, ItemBackoff } from '../../runtime/work-queue.ts';
import type { JobReconcileContext, StepOutcome } from './context.ts';

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
  reason: PendingReason;
  message: string;
  retry: RetryPolicy;
}

export function refusal(reason: PendingReason, message: string, retry: RetryPolicy): Refusal {
  return { refused: true, reason, message, retry };
}

export function isRefusal(value: unknown): value is Refusal {
  return typeof value === 'object' && value !== null && (value as Partial<Refusal>).refused === true;
}

const RECHECK_MS = 5 * 60_000;

/**
 * The delays of `backoff` refusals, per object: 1 s doubling to 5 min. The ItemBackoff holding the
 * counts lives in memory: after a restart the first retry is quick again, which is what a restart
 * should do.
 */
export const REFUSAL_BACKOFF: BackoffSettings = { baseMs: 1_000, maxMs: 5 * 60_000 };

/** Records the refusal in the status (phase Pending with its reason) and says when to look again. */
export function applyRefusal(ctx: JobReconcileContext, refused: Refusal, backoff: ItemBackoff, key: string): StepOutcome {
  ctx.setPhase('Pending', refused.reason, refused.message);
  ctx.event('Warning', refused.reason, refused.message);
  const { retry } = refused;
  if (retry === 'edit') return {};
  if (retry === 'recheck') return { requeueAfterMs: RECHECK_MS };
  if (retry === 'backoff') return { requeueAfterMs: backoff.next(key) };
  return { requeueAfterMs: Math.max(1_000, retry.afterMs) };
}
