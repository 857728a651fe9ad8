// Resolving the post recorded in the pending-post annotation, on every reconcile until it is
// settled: landed (the job exists: the annotation becomes the job-address annotation), still
// pending (send the same bytes again and wait), failed or never landed (nothing was created: clear
// the record so a new post can be prepared), or unknown (the RPC cannot tell: stop, and wait for a
// person to confirm with the nosana.io/confirm-post annotation, because guessing wrong either
// leaks a paid job or pays for a second one).
import { PublicKey } from '@solana/web3.js';
import { CONFIRM_POST_ANNOTATION, CONFIRM_POST_VALUES, JOB_ADDRESS_ANNOTATION, PENDING_POST_ANNOTATION } from '../../api/annotations.ts';
import { decodePendingPost, parsePendingPost } from '../../chain/create-once.ts';
import type { PendingPost } from '../../chain/jobs-client.ts';
import { jobDeposit } from '../../chain/money.ts';
import { killPoint } from '../../runtime/kill-points.ts';
import { keyOf, keyString } from '../../runtime/types.ts';
import type { NetworkPorts } from '../network-ports.ts';
import type { JobReconcileContext, StepOutcome } from './context.ts';
import { nextBindingAttempt } from './binding.ts';
import { recordIsOwn } from './record-trust.ts';
import { isRefusal } from './refusal.ts';
import { resolveMarketReference } from './resolve.ts';
import { ledgerFor, takeBack } from './spend-ledger.ts';
import { isoSeconds, updateAttempt } from './job-status.ts';
import { postingMessage, postingPollMs } from './post.ts';
import type { PostingState } from './post.ts';
import { stopIfOverBudget } from './price-guard.ts';

export type PendingResolution =
  /** The post landed and the job-address annotation now names the job. */
  | { kind: 'landed'; jobAddress: PublicKey }
  /** Nothing was created and the record is gone: a new post may be prepared. */
  | { kind: 'cleared'; outcome: StepOutcome }
  /** Still in flight, or waiting for a person: nothing else may happen to this job now. */
  | { kind: 'waiting'; outcome: StepOutcome };

/** A record that parses and verifies (signatures, the job and run it creates), or why it does not. */
function verifiedRecord(ports: NetworkPorts, text: string): { pending: PendingPost } | { why: string } {
  try {
    const pending = parsePendingPost(text);
    decodePendingPost(ports.network, pending);
    return { pending };
  } catch (error) {
    return { why: (error as Error).message };
  }
}

/**
 * The record to resolve. A garbled annotation falls back to the copy in status when that copy
 * verifies (the annotation is then written back from it): the record of a post that may have
 * been paid is never dropped for want of a readable annotation.
 */
async function trustedRecord(
  ctx: JobReconcileContext,
  ports: NetworkPorts,
  text: string,
): Promise<{ pending: PendingPost } | { why: string }> {
  const fromAnnotation = verifiedRecord(ports, text);
  if ('pending' in fromAnnotation) return fromAnnotation;
  const copy = ctx.status.pendingPost;
  const fromStatus = copy === undefined ? undefined : verifiedRecord(ports, JSON.stringify(copy));
  if (fromStatus === undefined || !('pending' in fromStatus))
    return { why: `the ${PENDING_POST_ANNOTATION} annotation cannot be used: ${fromAnnotation.why}` };
  await ctx.patchMetadata({ annotations: { [PENDING_POST_ANNOTATION]: JSON.stringify(fromStatus.pending) } });
  ctx.event(
    'Warning',
    'RecordRestored',
    `the ${PENDING_POST_ANNOTATION} annotation could not be used (${fromAnnotation.why}); it was restored from the verified copy in status, job ${fromStatus.pending.jobAddress}`,
  );
  return fromStatus;
}

function confirmValue(ctx: JobReconcileContext): string | undefined {
  return ctx.object.metadata?.annotations?.[CONFIRM_POST_ANNOTATION];
}

/**
 * A post that never landed paid nothing: its entry leaves the market's spend ledger. Best effort:
 * an entry left behind (a failed write) over-counts, which errs on the side of the limit.
 */
async function takeBackSpend(ctx: JobReconcileContext, jobAddress: string): Promise<void> {
  const reference = resolveMarketReference(ctx.object, ctx.deps.markets);
  if (isRefusal(reference)) return;
  const ledger = ledgerFor(reference, ctx.object);
  if (ledger === undefined) return;
  try {
    await takeBack(ctx.deps.reader, ctx.deps.writer, ledger.location, jobAddress, ctx.deps.now());
  } catch (error) {
    ctx.log.warn({ err: error, jobAddress }, 'the spend of a post that never landed stays counted in the spend ledger');
  }
}

/** Removes the record (and a confirmation that settled it) in one resourceVersion-checked write. */
async function clearRecord(ctx: JobReconcileContext, jobAddress: string | undefined): Promise<void> {
  await ctx.patchMetadata({
    annotations: { [PENDING_POST_ANNOTATION]: null, ...(confirmValue(ctx) === undefined ? {} : { [CONFIRM_POST_ANNOTATION]: null }) },
  });
  delete ctx.status.pendingPost;
  if (jobAddress !== undefined) await takeBackSpend(ctx, jobAddress);
}

/**
 * The post's job exists. The price guard runs BEFORE the record is swapped for the job-address
 * annotation: a crash in between resolves the record as landed again and re-runs the guard, so an
 * over-budget job cannot slip through to being mirrored as if it were fine.
 */
async function land(ctx: JobReconcileContext, ports: NetworkPorts, pending: PendingPost): Promise<PendingResolution> {
  const jobAddress = new PublicKey(pending.jobAddress);
  ctx.status.jobAddress = pending.jobAddress;
  delete ctx.status.pendingPost;
  const preparedAt = isoSeconds(new Date(pending.preparedAt));
  if (ctx.status.attempts?.some((attempt) => attempt.jobAddress === pending.jobAddress) !== true) {
    updateAttempt(ctx, jobAddress, { postedAt: preparedAt, binding: nextBindingAttempt(ctx.status.attempts) });
  }
  killPoint('post:after-landing');
  const job = await stopIfOverBudget(ctx, ports, jobAddress);
  await ctx.patchMetadata({
    annotations: {
      [JOB_ADDRESS_ANNOTATION]: pending.jobAddress,
      [PENDING_POST_ANNOTATION]: null,
      ...(confirmValue(ctx) === undefined ? {} : { [CONFIRM_POST_ANNOTATION]: null }),
    },
  });
  const labels = { network: ports.settings.name, market: ctx.status.marketAddress ?? job?.account.market.toBase58() ?? '' };
  ctx.deps.metrics.jobPosted(labels);
  // Counted as it entered the vault (refunds are measured against it); a network fee is not part of it.
  if (job !== undefined) ctx.deps.metrics.nosSpent(labels, jobDeposit(job.account.price, job.account.timeout));
  ctx.event('Normal', 'Posted', `job ${pending.jobAddress} landed on ${ports.settings.name}`);
  return { kind: 'landed', jobAddress };
}

/** Why a confirmation present on the resource was not acted on, if it was not. */
function ignoredConfirmation(given: string | undefined, jobAddress: string | undefined): string {
  if (given === undefined) return '';
  if (!(CONFIRM_POST_VALUES as readonly string[]).includes(given))
    return ` The value "${given}" of ${CONFIRM_POST_ANNOTATION} is not one of "landed" and "not-landed".`;
  return jobAddress === undefined
    ? ` ${CONFIRM_POST_ANNOTATION}=${given} cannot be acted on: the record names no readable job address.`
    : '';
}

function unknownOutcome(ctx: JobReconcileContext, jobAddress: string | undefined, why: string): PendingResolution {
  const name = ctx.object.metadata?.name ?? '';
  const landedHint =
    jobAddress === undefined
      ? 'If a job was created, set spec.jobAddress to adopt it instead.'
      : `If job ${jobAddress} exists (or existed), run: kubectl annotate nosanajob/${name} ${CONFIRM_POST_ANNOTATION}=landed.`;
  const message =
    `cannot tell whether the post landed: ${why}. Nothing will be posted until this is settled. ${landedHint} ` +
    `If you are certain it never landed, run: kubectl annotate nosanajob/${name} ${CONFIRM_POST_ANNOTATION}=not-landed.` +
    ignoredConfirmation(confirmValue(ctx), jobAddress);
  ctx.setPhase('Posting', 'PostOutcomeUnknown', message);
  ctx.event('Warning', 'PostOutcomeUnknown', message);
  // Only a person can settle it, and their annotation triggers the next reconcile.
  return { kind: 'waiting', outcome: {} };
}

/** Acts on a person's confirmation of a post whose outcome the RPC could not tell. */
async function settleUnknown(
  ctx: JobReconcileContext,
  state: PostingState,
  ports: NetworkPorts,
  pending: PendingPost | undefined,
  why: string,
): Promise<PendingResolution> {
  const confirmed = confirmValue(ctx);
  if (confirmed === 'landed' && pending !== undefined) {
    ctx.event('Normal', 'PostConfirmed', `a person confirmed that job ${pending.jobAddress} landed`);
    return land(ctx, ports, pending);
  }
  if (confirmed === 'not-landed') {
    // Only our transaction can create the recorded job account: if it exists, the post landed,
    // whatever the confirmation says, and clearing the record would leak a paid job.
    if (pending !== undefined && (await ports.jobs.getJob(new PublicKey(pending.jobAddress))) !== undefined) {
      ctx.event(
        'Warning',
        'ConfirmationRefused',
        `${CONFIRM_POST_ANNOTATION}=not-landed was not followed: job ${pending.jobAddress} exists on chain, so the post landed; it is followed instead`,
      );
      return land(ctx, ports, pending);
    }
    await clearRecord(ctx, pending?.jobAddress);
    const message = `a person confirmed that the post${pending === undefined ? '' : ` of job ${pending.jobAddress}`} never landed; preparing a new one`;
    ctx.setPhase('Pending', 'Pending', message);
    ctx.event('Normal', 'PostConfirmed', message);
    return { kind: 'cleared', outcome: { requeueAfterMs: postingPollMs(ctx) } };
  }
  return unknownOutcome(ctx, pending?.jobAddress, why);
}

export async function resolvePendingPost(ctx: JobReconcileContext, state: PostingState, text: string): Promise<PendingResolution> {
  const ports = await ctx.ports();
  const record = await trustedRecord(ctx, ports, text);
  if (!('pending' in record)) return settleUnknown(ctx, state, ports, undefined, record.why);
  const { pending } = record;
  const own = await recordIsOwn(ctx, ports, pending);
  if (own === undefined) {
    ctx.setPhase(
      'Posting',
      'Posting',
      `${postingMessage(pending.jobAddress)}; whether this resource prepared it cannot be told yet (its wallet, or the definition it pinned, cannot be read)`,
    );
    return { kind: 'waiting', outcome: { requeueAfterMs: state.backoff.next(keyString(keyOf(ctx.object))) } };
  }
  if (!own) {
    // It came with the object and is not this object's post: whatever it is, it is not ours to
    // settle. Dropping it costs nothing: if this object did post, the posting path finds that
    // job on chain by its binding before it pays for another.
    await clearRecord(ctx, undefined);
    ctx.event(
      'Warning',
      'RecordUnproven',
      `the ${PENDING_POST_ANNOTATION} annotation records a post of job ${pending.jobAddress} that this NosanaJob cannot prove it prepared; it was removed`,
    );
    return { kind: 'cleared', outcome: { requeueAfterMs: postingPollMs(ctx) } };
  }
  ctx.status.pendingPost = pending;
  let resolution;
  try {
    resolution = await ports.jobs.resolvePendingPost(pending);
  } catch (error) {
    // An RPC that does not answer now may answer later; the record keeps everything safe meanwhile.
    const jobKey = keyString(keyOf(ctx.object));
    ctx.setPhase(
      'Posting',
      'Posting',
      `${postingMessage(pending.jobAddress)}; its outcome cannot be read yet: ${(error as Error).message}`,
    );
    return { kind: 'waiting', outcome: { requeueAfterMs: state.backoff.next(jobKey) } };
  }
  switch (resolution.outcome) {
    case 'landed':
      return land(ctx, ports, pending);
    case 'pending':
      // Re-sending the same signed bytes is harmless: the cluster de-duplicates by signature.
      await ports.jobs.broadcast(pending).catch((error: unknown) => ctx.log.warn({ err: error }, 're-sending the pending post failed'));
      ctx.setPhase('Posting', 'Posting', postingMessage(pending.jobAddress));
      return { kind: 'waiting', outcome: { requeueAfterMs: postingPollMs(ctx) } };
    case 'failed': {
      await clearRecord(ctx, pending.jobAddress);
      const message = `the post of job ${pending.jobAddress} failed on chain (${resolution.error?.name ?? resolution.detail}); nothing was created, only the fee was paid; a new post is prepared after a backoff`;
      ctx.setPhase('Pending', 'Pending', message);
      ctx.event('Warning', 'PostFailed', message);
      return { kind: 'cleared', outcome: { requeueAfterMs: state.backoff.next(keyString(keyOf(ctx.object))) } };
    }
    case 'never-landed': {
      await clearRecord(ctx, pending.jobAddress);
      const message = `the post of job ${pending.jobAddress} expired without landing; nothing was spent; preparing a new one`;
      ctx.setPhase('Pending', 'Pending', message);
      ctx.event('Normal', 'PostExpired', message);
      return { kind: 'cleared', outcome: { requeueAfterMs: postingPollMs(ctx) } };
    }
    case 'unknown':
      return settleUnknown(ctx, state, ports, pending, resolution.reason);
  }
}
