// How the mirror records what it saw in the working status: phase transitions (with one event
// each, not one per poll) and the attempts list, including the ending the operator is about to
// cause, written BEFORE the transaction that causes it. The job account disappears after delist
// and recover, so a crash right after one of them would otherwise leave a gone job nobody can
// tell apart from one cancelled by someone else.
import type { PublicKey } from '@solana/web3.js';
import type { JobView } from '../../chain/jobs-client.ts';
import type { NosanaJobPhase, NosanaJobStatus } from '../../api/crds/nosana-job.ts';
import { findCondition } from '../../runtime/conditions.ts';
import type { EventType } from '../../runtime/types.ts';
import type { NetworkPorts } from '../network-ports.ts';
import type { JobReconcileContext, StepOutcome } from './context.ts';

/** One look at an on-chain job, with what the mirror needs to act on it. */
export interface Observation {
  ctx: JobReconcileContext;
  ports: NetworkPorts;
  job: JobView;
  /** 'posted': this resource posted the job and may act on it; 'adopted' (spec.jobAddress): mirror only. */
  origin: 'posted' | 'adopted';
}

export type Attempt = NonNullable<NosanaJobStatus['attempts']>[number];

/**
 * Endings the operator records before acting: `QueueTimeout` before delisting, `NodeQuit` before
 * recovering, `NodeSilent` before ending a job whose node went silent.
 */
export type IntendedEnding = 'QueueTimeout' | 'NodeQuit' | 'NodeSilent';

/** A job that has not ended is looked at again after one poll interval (the watcher's). */
export function pollAgain(ctx: JobReconcileContext): StepOutcome {
  return { requeueAfterMs: ctx.deps.options.pollIntervalMs };
}

/** Sets the phase; the event is recorded only when phase or reason change (polls repeat the same observation). */
export function moveTo(ctx: JobReconcileContext, phase: NosanaJobPhase, reason: string, message: string, type: EventType = 'Normal'): void {
  const changed = ctx.status.phase !== phase || findCondition(ctx.status.conditions, 'Ready')?.reason !== reason;
  ctx.setPhase(phase, reason, message);
  if (changed) ctx.event(type, reason, message);
}

/** The attempt for `job`, added (posted or adopted now) when the posting path did not record it. */
export function attemptFor(ctx: JobReconcileContext, job: PublicKey): Attempt {
  const address = job.toBase58();
  const found = ctx.status.attempts?.find((attempt) => attempt.jobAddress === address);
  if (found !== undefined) return found;
  const added: Attempt = { jobAddress: address, postedAt: isoSeconds(ctx.deps.now()) };
  ctx.status.attempts = [...(ctx.status.attempts ?? []), added];
  return added;
}

/** Replaces the attempt for `job` (the cached status is frozen, so never mutated in place). */
export function updateAttempt(ctx: JobReconcileContext, job: PublicKey, change: Partial<Attempt>): Attempt {
  const current = attemptFor(ctx, job);
  const next: Attempt = { ...current, ...change };
  for (const key of Object.keys(change) as (keyof Attempt)[]) if (change[key] === undefined) delete next[key];
  ctx.status.attempts = (ctx.status.attempts ?? []).map((attempt) => (attempt === current ? next : attempt));
  return next;
}

/**
 * Records the ending the operator is about to cause and writes the status now, before the
 * transaction, so that after a crash the next reconcile knows the gone job was ended by us.
 */
export async function recordIntent(ctx: JobReconcileContext, job: PublicKey, ending: IntendedEnding): Promise<void> {
  updateAttempt(ctx, job, { outcome: ending });
  await ctx.writeStatus();
}

/** Kubernetes timestamps: RFC 3339 in UTC, whole seconds. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A unix time in seconds from the chain as a Kubernetes timestamp. */
export function chainTime(unixSeconds: bigint): string {
  return isoSeconds(new Date(Number(unixSeconds) * 1000));
}
