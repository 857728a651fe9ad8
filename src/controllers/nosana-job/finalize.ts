// What deleting a NosanaJob does on chain (the finalizer's work): a queued job is delisted (its
// deposit refunded), a running one ended (its node paid for the time used, the rest refunded),
// and one whose node quit recovered; a finished or closed job needs nothing. deletionPolicy
// Orphan leaves the job alone, and so does an adopted job (spec.jobAddress may name anyone's
// job). No single read lets the finalizer go: done is reported only once a finalized read shows
// the job delisted, ended or closed, so a job a node claimed a moment ago is ended, not leaked.
import type { Keypair, PublicKey } from '@solana/web3.js';
import { JOB_TYPE_DISABLED } from '../../chain/accounts.ts';
import { attemptFor, isoSeconds, updateAttempt } from './job-status.ts';
import type { JobView } from '../../chain/jobs-client.ts';
import type { NetworkPorts } from '../network-ports.ts';
import type { JobReconcileContext } from './context.ts';
import { delistJob, endJob, posterWallet, recoverJob } from './chain-actions.ts';

// Finality comes within seconds (about 13 s on Solana); look again at that pace, not the poll interval.
const FINALITY_POLL_MS = 2_000;

export interface FinalizeOutcome {
  /** The finalizer may be removed. */
  done: boolean;
  requeueAfterMs?: number;
}

/** spec.jobAddress, or a job address this object could not prove it posted (record-trust.ts). */
function isAdopted(ctx: JobReconcileContext, job: PublicKey): boolean {
  const address = job.toBase58();
  return (
    ctx.object.spec.jobAddress === address ||
    ctx.status.attempts?.some((attempt) => attempt.jobAddress === address && attempt.origin === 'adopted') === true
  );
}

/** Leaves the job on chain, saying why (an event: the resource is about to go). */
function leaveAlone(ctx: JobReconcileContext, ports: NetworkPorts, job: PublicKey, why: string): FinalizeOutcome {
  ports.watcher.forget(job);
  ctx.event('Warning', 'LeftOnChain', `job ${job.toBase58()} was left on chain: ${why}`);
  return { done: true };
}

/**
 * `origin` says whether this resource posted the job (it may cancel it), adopted it (it never
 * does), or cannot tell yet (undefined: nothing is cancelled and the finalizer stays).
 */
export async function finalizeJob(
  ctx: JobReconcileContext,
  jobAddress: PublicKey | undefined,
  origin: 'posted' | 'adopted' | undefined = 'posted',
): Promise<FinalizeOutcome> {
  if (jobAddress === undefined) return { done: true };
  const ports = await ctx.ports();
  if (ctx.object.spec.deletionPolicy === 'Orphan') {
    ports.watcher.forget(jobAddress);
    ctx.event('Normal', 'Orphaned', `job ${jobAddress.toBase58()} is left on chain (deletionPolicy Orphan)`);
    return { done: true };
  }
  if (origin === 'adopted' || isAdopted(ctx, jobAddress)) {
    // A job named by spec.jobAddress may be anyone's: deleting the resource never cancels it.
    return leaveAlone(
      ctx,
      ports,
      jobAddress,
      'it was adopted (spec.jobAddress, or an address this resource cannot prove it posted), and an adopted job is only mirrored',
    );
  }
  // Fresh, not a snapshot: acting on a job that a node took a moment ago would fail.
  const job = await ports.watcher.job(jobAddress, { maxAgeMs: 0 });
  if (job?.status === 'COMPLETED') return settledAtFinality(ctx, ports, jobAddress);
  if (job === undefined) {
    // Gone after this resource cancelled it or saw it end: settled once finality agrees. Gone
    // without that (a job landed moments ago, read from a node that has not seen it yet) counts
    // only once it has stayed missing for a while.
    if (endedHere(ctx, jobAddress) || missingLongEnough(ctx, jobAddress)) return settledAtFinality(ctx, ports, jobAddress);
    return { done: false, requeueAfterMs: FINALITY_POLL_MS };
  }
  if (origin === undefined) {
    ctx.event(
      'Warning',
      'CancelBlocked',
      `job ${jobAddress.toBase58()} is not cancelled yet: whether this resource posted it cannot be told now (its wallet or the definition it pinned cannot be read); set spec.deletionPolicy to Orphan to leave it on chain`,
    );
    return { done: false, requeueAfterMs: ctx.deps.options.pollIntervalMs };
  }
  const poster = await posterWallet(ctx, job);
  if ('refused' in poster) {
    // This resource paid for the job, and only its project can cancel it: letting the finalizer
    // go would leave a paid job running. Wait for the wallet to be right again, or for a person
    // to set deletionPolicy Orphan.
    ctx.event(
      'Warning',
      'CancelBlocked',
      `job ${jobAddress.toBase58()} cannot be cancelled: ${poster.refused}; set spec.deletionPolicy to Orphan to leave it on chain`,
    );
    return { done: false, requeueAfterMs: ctx.deps.options.pollIntervalMs };
  }
  if (job.status === 'QUEUED') {
    const market = await ports.watcher.market(job.account.market, { maxAgeMs: 0 });
    if (market?.account.jobType === JOB_TYPE_DISABLED) {
      // A disabled market keeps deposits without queueing: such a job can never be delisted.
      return leaveAlone(
        ctx,
        ports,
        jobAddress,
        `market ${job.account.market.toBase58()} is disabled, so the job is not in its queue and cannot be delisted`,
      );
    }
    if (market?.account.queue.some((entry) => entry.equals(job.address)) !== true) {
      // Read between a node claiming it and its run showing up: the next read says RUNNING.
      return { done: false, requeueAfterMs: FINALITY_POLL_MS };
    }
  }
  // Recorded before the transaction: the job disappears with it, and a crash right after must not
  // leave a gone job that looks as if it might not have landed yet.
  updateAttempt(ctx, jobAddress, { outcome: 'Cancelled', endedAt: isoSeconds(ctx.deps.now()) });
  await ctx.writeStatus();
  ctx.event('Normal', 'Cancelled', await cancel(ctx, ports, job, poster.wallet));
  // The finalizer stays until a finalized read shows the job delisted, ended or closed.
  return { done: false, requeueAfterMs: FINALITY_POLL_MS };
}

/** How long a job never seen ended by this resource must stay missing before deletion believes it gone. */
const MISSING_GRACE_MS = 60_000;

/** This resource cancelled the job, or saw its attempt end (the status says so). */
function endedHere(ctx: JobReconcileContext, jobAddress: PublicKey): boolean {
  const attempt = ctx.status.attempts?.find((entry) => entry.jobAddress === jobAddress.toBase58());
  return attempt?.outcome !== undefined || (ctx.status.jobAddress === jobAddress.toBase58() && isEndedPhase(ctx.status.phase));
}

function isEndedPhase(phase: string | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Stopped';
}

/** Records when the job was first found missing; true once that is long enough ago. */
function missingLongEnough(ctx: JobReconcileContext, jobAddress: PublicKey): boolean {
  const attempt = attemptFor(ctx, jobAddress);
  const now = ctx.deps.now();
  if (attempt.missingSince === undefined) {
    updateAttempt(ctx, jobAddress, { missingSince: isoSeconds(now) });
    return false;
  }
  return now.getTime() - Date.parse(attempt.missingSince) >= MISSING_GRACE_MS;
}

/** The job looks delisted, ended or closed: let go only once a finalized read says the same. */
async function settledAtFinality(ctx: JobReconcileContext, ports: NetworkPorts, jobAddress: PublicKey): Promise<FinalizeOutcome> {
  const settled = await ports.jobs.getJob(jobAddress, { commitment: 'finalized' });
  if (settled !== undefined && settled.status !== 'COMPLETED') {
    ctx.log.debug({ status: settled.status }, 'the job is not settled at finalized commitment yet');
    return { done: false, requeueAfterMs: FINALITY_POLL_MS };
  }
  ports.watcher.forget(jobAddress);
  return { done: true };
}

async function cancel(ctx: JobReconcileContext, ports: NetworkPorts, job: JobView, wallet: Keypair): Promise<string> {
  switch (job.status) {
    case 'QUEUED':
      return delistJob(ctx, ports, job, wallet);
    case 'RUNNING':
      return (await endJob(ctx, ports, job, wallet)).message;
    case 'STOPPED':
      return recoverJob(ctx, ports, job, wallet);
    case 'COMPLETED':
      return `job ${job.address.toBase58()} had already ended`;
  }
}
