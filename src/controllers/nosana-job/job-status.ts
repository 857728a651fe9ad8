// The attempts list: pure functions over a status (the decisions' Draft uses them), and the one
// wrapper over the context's working copy that the acting layer and record-trust.ts need.
import type { PublicKey } from '@solana/web3.js';
import type { NosanaJobPhase, NosanaJobStatus } from '../../api/crds/nosana-job.ts';
import { findCondition } from '../../runtime/conditions.ts';
import { isoSeconds } from '../../runtime/kube-time.ts';
import type { JobReconcileContext } from './context.ts';

export type Attempt = NonNullable<NosanaJobStatus['attempts']>[number];

// The NosanaJob decisions import the formatter from here, beside chainTime.
export { isoSeconds };

/** A unix time in seconds from the chain as a Kubernetes timestamp. */
export function chainTime(unixSeconds: bigint): string {
  return isoSeconds(new Date(Number(unixSeconds) * 1000));
}

/** The status with an attempt for `address` (posted or adopted `now` when the status had none). */
export function withAttempt(status: NosanaJobStatus, address: string, now: Date): { status: NosanaJobStatus; attempt: Attempt } {
  const found = status.attempts?.find((attempt) => attempt.jobAddress === address);
  if (found !== undefined) return { status, attempt: found };
  const added: Attempt = { jobAddress: address, postedAt: isoSeconds(now) };
  return { status: { ...status, attempts: [...(status.attempts ?? []), added] }, attempt: added };
}

/** The status with the attempt for `address` changed (undefined values remove fields); a status read from the cache is frozen, so never mutated. */
export function withAttemptChange(status: NosanaJobStatus, address: string, change: Partial<Attempt>, now: Date): NosanaJobStatus {
  const { status: withIt, attempt: current } = withAttempt(status, address, now);
  const next: Attempt = { ...current, ...change };
  for (const key of Object.keys(change) as (keyof Attempt)[]) if (change[key] === undefined) delete next[key];
  return { ...withIt, attempts: (withIt.attempts ?? []).map((attempt) => (attempt === current ? next : attempt)) };
}

/** Whether a move to (phase, reason) changes what the status shows (an Event is recorded only then). */
export function isNewPhase(status: NosanaJobStatus, phase: NosanaJobPhase, reason: string): boolean {
  return status.phase !== phase || findCondition(status.conditions, 'Ready')?.reason !== reason;
}

/** Changes the attempt for `job` in the working status. */
export function updateAttempt(ctx: JobReconcileContext, job: PublicKey, change: Partial<Attempt>): void {
  ctx.status = withAttemptChange(ctx.status, job.toBase58(), change, ctx.deps.now());
}
