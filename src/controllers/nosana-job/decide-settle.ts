// What happens next to a post in flight (the settle rows of decide.ts's table): landed (the job
// exists: the record becomes the job-address annotation, after the landed price is checked
// against spec.maxCost), still pending (send the same bytes again and wait), failed or never
// landed (nothing was created: clear the record so a new post can be prepared), or unknown (the
// RPC cannot tell: wait for a person's nosana.io/confirm-post, because guessing wrong either
// leaks a paid job or pays for a second one). Pure: settle.ts reads and acts.
import { CONFIRM_POST_ANNOTATION, CONFIRM_POST_VALUES, PENDING_POST_ANNOTATION } from '../../api/annotations.ts';
import type { NosanaJobStatus } from '../../api/crds/nosana-job.ts';
import type { PendingPost } from '../../chain/jobs-client.ts';
import { listCharge } from '../../chain/money.ts';
import { nextBindingAttempt } from './binding.ts';
import { Draft, postingMessage, postingPollMs } from './decision.ts';
import type { Decision, DecisionSettings, SettleWorld } from './decision.ts';
import { isoSeconds } from './job-status.ts';
import { mayPay } from './may-pay.ts';
import { FINALITY_POLL_MS } from './decide-delete.ts';

// After the record changed (cleared, restored, landed), the next stage starts at once.
const NEXT_STAGE_MS = 500;

export function decideSettle(status: NosanaJobStatus, world: SettleWorld, settings: DecisionSettings): Decision {
  const draft = new Draft(status, settings);
  if ('why' in world.record) return unsettled(draft, world, settings, undefined, world.record.why);
  const { pending, garbled } = world.record;
  if (garbled !== undefined) {
    draft.event(
      'Warning',
      'RecordRestored',
      `the ${PENDING_POST_ANNOTATION} annotation could not be used (${garbled}); it was restored from the verified copy in status, job ${pending.jobAddress}`,
    );
    return draft.decided({ kind: 'restoreRecord', pending }, { afterMs: NEXT_STAGE_MS });
  }
  if (world.own === undefined) {
    draft.setPhase(
      'Posting',
      'Posting',
      `${postingMessage(pending.jobAddress)}; whether this resource prepared it cannot be told yet (its wallet, or the definition it pinned, cannot be read)`,
    );
    return draft.decided({ kind: 'none' }, { backoff: true });
  }
  if (!world.own) {
    // It came with the object and is not this object's post: whatever it is, it is not ours to
    // settle. Dropping it costs nothing: if this object did post, the posting path finds that
    // job on chain by its binding before it pays for another.
    draft.event(
      'Warning',
      'RecordUnproven',
      `the ${PENDING_POST_ANNOTATION} annotation records a post of job ${pending.jobAddress} that this NosanaJob cannot prove it prepared; it was removed`,
    );
    delete draft.status.pendingPost;
    return draft.decided({ kind: 'clearRecord' }, { afterMs: postingPollMs(settings) });
  }
  draft.status.pendingPost = pending;
  if (world.takenBack === true) {
    // Known to have landed (it was taken back); the record goes once the job is closed for good.
    if (world.landed === undefined && world.goneAtFinality !== true) return draft.decided({ kind: 'none' }, { afterMs: FINALITY_POLL_MS });
    return land(draft, world, settings, pending);
  }
  const outcome = world.outcome;
  if (outcome === undefined || 'readError' in outcome) {
    // An RPC that does not answer now may answer later; the record keeps everything safe meanwhile.
    draft.setPhase(
      'Posting',
      'Posting',
      `${postingMessage(pending.jobAddress)}; its outcome cannot be read yet: ${outcome?.readError ?? 'not read'}`,
    );
    return draft.decided({ kind: 'none' }, { backoff: true });
  }
  switch (outcome.outcome) {
    case 'landed':
      return land(draft, world, settings, pending);
    case 'pending':
      // Re-sending the same signed bytes is harmless: the cluster de-duplicates by signature.
      draft.setPhase('Posting', 'Posting', postingMessage(pending.jobAddress));
      return draft.decided({ kind: 'rebroadcast', pending }, { afterMs: postingPollMs(settings) });
    case 'failed': {
      const message = `the post of job ${pending.jobAddress} failed on chain (${outcome.error?.name ?? outcome.detail}); nothing was created, only the fee was paid; a new post is prepared after a backoff`;
      return cleared(draft, pending.jobAddress, message, 'Warning', 'PostFailed', { backoff: true });
    }
    case 'never-landed': {
      const message = `the post of job ${pending.jobAddress} expired without landing; nothing was spent; preparing a new one`;
      return cleared(draft, pending.jobAddress, message, 'Normal', 'PostExpired', { afterMs: postingPollMs(settings) });
    }
    case 'unknown':
      return unsettled(draft, world, settings, pending, outcome.reason);
  }
}

/** Nothing was created: the record goes, with its spend in the ledger, and a new post may be prepared. */
function cleared(
  draft: Draft,
  jobAddress: string | undefined,
  message: string,
  type: 'Normal' | 'Warning',
  reason: string,
  requeue: { afterMs?: number; backoff?: true },
): Decision {
  delete draft.status.pendingPost;
  draft.setPhase('Pending', 'Pending', message);
  draft.event(type, reason, message);
  return draft.decided({ kind: 'clearRecord', ...(jobAddress === undefined ? {} : { takeBackSpend: jobAddress }) }, requeue);
}

/**
 * The post's job exists. The landed price is checked BEFORE the record is swapped for the
 * job-address annotation: a crash in between settles the record as landed again and checks again,
 * so a job over spec.maxCost cannot slip through to being mirrored as if it were fine.
 */
function land(draft: Draft, world: SettleWorld, settings: DecisionSettings, pending: PendingPost): Decision {
  const address = pending.jobAddress;
  draft.status.jobAddress = address;
  delete draft.status.pendingPost;
  if (draft.findAttempt(address) === undefined) {
    draft.updateAttempt(address, {
      postedAt: isoSeconds(new Date(pending.preparedAt)),
      binding: nextBindingAttempt(draft.status.attempts),
    });
  }
  const job = world.landed;
  if (job !== undefined && (job.status === 'QUEUED' || job.status === 'RUNNING')) {
    const { price, timeout } = job.account;
    const answer = mayPay(
      {
        kind: 'landed',
        job: address,
        price,
        timeout,
        charge: listCharge(world.network, price, timeout),
        ...(settings.maxCost === undefined ? {} : { maxCost: settings.maxCost }),
      },
      settings.now,
    );
    const takenBefore = draft.findAttempt(address)?.outcome === 'PriceAboveMaxCost';
    if (answer.refusal !== undefined || takenBefore) {
      const how = job.status === 'QUEUED' ? 'delisted' : 'ended';
      const why = answer.refusal?.message ?? `job ${address} cost more than spec.maxCost`;
      draft.updateAttempt(address, {
        outcome: 'PriceAboveMaxCost',
        endedAt: draft.findAttempt(address)?.endedAt ?? isoSeconds(settings.now),
      });
      draft.setPhase('Stopped', 'PriceAboveMaxCost', `${why}; it was taken back at once (${how})`);
      const action =
        job.status === 'QUEUED'
          ? ({ kind: 'delist', ending: 'PriceAboveMaxCost' } as const)
          : ({ kind: 'end', ending: 'PriceAboveMaxCost' } as const);
      return draft.decided(action, { afterMs: NEXT_STAGE_MS, forget: true });
    }
  }
  // A job already taken back for its price said so when it was; it is not announced as posted now.
  if (draft.findAttempt(address)?.outcome !== 'PriceAboveMaxCost')
    draft.event('Normal', 'Posted', `job ${address} landed on ${world.network}`);
  return draft.decided({ kind: 'land', pending }, { afterMs: NEXT_STAGE_MS });
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

/** The RPC cannot tell whether the post landed: a person's confirmation decides, or nothing moves. */
function unsettled(draft: Draft, world: SettleWorld, settings: DecisionSettings, pending: PendingPost | undefined, why: string): Decision {
  const confirmed = world.confirm;
  if (confirmed === 'landed' && pending !== undefined) {
    draft.event('Normal', 'PostConfirmed', `a person confirmed that job ${pending.jobAddress} landed`);
    return land(draft, world, settings, pending);
  }
  if (confirmed === 'not-landed') {
    // Only our transaction can create the recorded job account: if it exists, the post landed,
    // whatever the confirmation says, and clearing the record would leak a paid job.
    if (pending !== undefined && world.exists === true) {
      draft.event(
        'Warning',
        'ConfirmationRefused',
        `${CONFIRM_POST_ANNOTATION}=not-landed was not followed: job ${pending.jobAddress} exists on chain, so the post landed; it is followed instead`,
      );
      return land(draft, world, settings, pending);
    }
    const message = `a person confirmed that the post${pending === undefined ? '' : ` of job ${pending.jobAddress}`} never landed; preparing a new one`;
    return cleared(draft, pending?.jobAddress, message, 'Normal', 'PostConfirmed', { afterMs: postingPollMs(settings) });
  }
  const name = settings.name ?? '';
  const jobAddress = pending?.jobAddress;
  const landedHint =
    jobAddress === undefined
      ? 'If a job was created, set spec.jobAddress to adopt it instead.'
      : `If job ${jobAddress} exists (or existed), run: kubectl annotate nosanajob/${name} ${CONFIRM_POST_ANNOTATION}=landed.`;
  const message =
    `cannot tell whether the post landed: ${why}. Nothing will be posted until this is settled. ${landedHint} ` +
    `If you are certain it never landed, run: kubectl annotate nosanajob/${name} ${CONFIRM_POST_ANNOTATION}=not-landed.` +
    ignoredConfirmation(confirmed, jobAddress);
  draft.setPhase('Posting', 'PostOutcomeUnknown', message);
  draft.event('Warning', 'PostOutcomeUnknown', message);
  // Only a person can settle it, and their annotation triggers the next reconcile.
  return draft.decided({ kind: 'none' });
}
