// Whether a job address or a post record found in a NosanaJob's annotations is this object's own.
// The admission policy lets only the operator change nosana.io/* annotations and the status on
// update, but a create carries whatever its author wrote, so that restores from Git or a backup
// keep their records. A record the status does not corroborate (the operator writes both)
// therefore came with the object, and is trusted only when the binding in the job's pinned
// definition (binding.ts) proves this object posted it. Otherwise the job is followed but never
// acted on: a team that copies another team's job address can watch the job, not delist or end it.
//
// Three answers: proven, disproven (decided once and kept in the attempt's origin), or not yet
// (the wallet, the chain or IPFS cannot be read now). "Not yet" is never turned into a decision:
// the job is only mirrored meanwhile, and a deletion keeps its finalizer until it can tell.
import { PublicKey } from '@solana/web3.js';
import type { PendingPost } from '../../chain/jobs-client.ts';
import type { NetworkPorts } from '../network-ports.ts';
import { attemptsToSearch, provesJob, provesRecord } from './binding.ts';
import type { BindingSubject } from './binding.ts';
import type { JobReconcileContext } from './context.ts';
import { updateAttempt } from './job-status.ts';

export type JobOrigin = 'posted' | 'adopted';

async function subjectOf(ctx: JobReconcileContext): Promise<BindingSubject> {
  return { wallet: await ctx.wallet(), namespace: ctx.object.metadata?.namespace ?? '', name: ctx.object.metadata?.name ?? '' };
}

/** What the status already says about `address`: the operator wrote it, so it is believed. */
function recordedOrigin(ctx: JobReconcileContext, address: string): JobOrigin | undefined {
  const attempt = ctx.status.attempts?.find((entry) => entry.jobAddress === address);
  if (attempt?.origin === 'unverified') return undefined;
  if (attempt !== undefined) return attempt.origin ?? 'posted';
  if (ctx.status.jobAddress === address || ctx.status.pendingPost?.jobAddress === address) return 'posted';
  return undefined;
}

/** Marks the attempt so that mirroring it meanwhile is not mistaken for a decision. */
function undecided(ctx: JobReconcileContext, address: string): undefined {
  updateAttempt(ctx, new PublicKey(address), { origin: 'unverified' });
  return undefined;
}

/**
 * Whether the job named by the job-address annotation is this object's to act on; undefined when
 * that cannot be told now. A decision is kept in the attempt's `origin`, so the binding is
 * checked only for a record that arrived with the object.
 */
export async function jobAddressOrigin(ctx: JobReconcileContext, address: string): Promise<JobOrigin | undefined> {
  const recorded = recordedOrigin(ctx, address);
  if (recorded !== undefined) return recorded;
  let attempt: number | undefined;
  try {
    const ports = await ctx.ports();
    const job = await ports.jobs.getJob(new PublicKey(address));
    // Gone (or not visible yet): there is nothing to act on, and nothing to decide.
    if (job === undefined) return undecided(ctx, address);
    attempt = await provesJob(job, ports.gateway, await subjectOf(ctx), attemptsToSearch(ctx.object.spec.retries), ctx.signal);
  } catch (error) {
    ctx.log.info({ err: error, jobAddress: address }, 'cannot tell yet whether this resource posted the job its annotation names');
    return undecided(ctx, address);
  }
  if (attempt !== undefined) {
    updateAttempt(ctx, new PublicKey(address), { origin: 'posted', binding: attempt });
    return 'posted';
  }
  updateAttempt(ctx, new PublicKey(address), { origin: 'adopted' });
  ctx.event(
    'Warning',
    'RecordUnproven',
    `the annotation names job ${address}, which this NosanaJob did not post: it is mirrored, never acted on or cancelled`,
  );
  return 'adopted';
}

/**
 * Whether a post record the status does not know was prepared by this object; undefined when
 * that cannot be told now (the record is then kept, neither settled nor dropped).
 */
export async function recordIsOwn(ctx: JobReconcileContext, ports: NetworkPorts, pending: PendingPost): Promise<boolean | undefined> {
  if (recordedOrigin(ctx, pending.jobAddress) !== undefined) return true;
  try {
    const attempt = await provesRecord(
      ports.network,
      pending,
      ports.gateway,
      await subjectOf(ctx),
      attemptsToSearch(ctx.object.spec.retries),
      ctx.signal,
    );
    return attempt !== undefined;
  } catch (error) {
    ctx.log.info({ err: error, jobAddress: pending.jobAddress }, 'cannot tell yet whether this resource prepared the recorded post');
    return undefined;
  }
}
