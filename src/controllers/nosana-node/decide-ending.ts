// What happens to a run once something is recorded for its ending (the ending rows of decide.ts's
// table): the pinned result becomes a signed finish (or complete, when the poster ended the job
// meanwhile); a signed ending follows the one rule for recorded node transactions
// (chain/node-transaction-step.ts): the same bytes until they land, nothing new while it may still
// land, a new signature only once it cannot and its work is still to do; a settled ending is
// counted once (jobsCompleted, jobsFailed or jobsQuit) and then released. An ending another key
// signed is never acted on (a quit of someone else's would count this run as quit and drop it):
// the record store refuses such a record, and this decision stops on one all the same. Pure: the
// acting layer reads and acts.
import type { JobView } from '../../chain/jobs-client.ts';
import { formatNos, jobCost } from '../../chain/money.ts';
import { decideNodeTransactionStep, observeJob } from '../../chain/node-transaction-step.ts';
import { findCondition } from '../../runtime/conditions.ts';
import {
  ENDING_POLL_MS,
  NEXT_STEP_MS,
  deliveringMessage,
  endedByPoster,
  forgetRun,
  heldRun,
  jobOf,
  nameRun,
  quittingMessage,
  showBusy,
  showIdle,
} from './decision.ts';
import type { EndingKind, NodeContext, NodeDecision, RecordedEnding, RunRecord } from './decision.ts';

/** landed: the ending took effect; lost: nothing more can be sent for the run. */
type Settled = { as: 'landed' } | { as: 'lost'; why: string };

/** What to do with a recorded ending, when it is not settled. */
type Next =
  | { step: 'resend' | 'wait'; message: string }
  | { step: 'resign'; failed: boolean; message: string }
  | { step: 'complete'; message: string };

export function decideEnding(ctx: NodeContext, record: RunRecord): NodeDecision {
  const { draft, chain } = ctx;
  const { jobAddress, runAddress } = record;
  delete draft.status.queuePosition;
  if (record.result === undefined && record.ending === undefined)
    return draft.decided({ kind: 'releaseRun', runAddress }, { afterMs: NEXT_STEP_MS });
  if (record.ending !== undefined && record.ending.signed.node !== ctx.address) return foreign(ctx, record, record.ending);
  const job = jobOf(chain, jobAddress);
  const byPoster = endedByPoster(job);
  const { ending, result } = record;
  let next: Next | undefined;
  let settled: Settled | undefined;
  if (ending === undefined) {
    // Only a result: a finish while the run is held, a complete once the poster ended the job.
    if (heldRun(chain, runAddress) === undefined && !byPoster)
      settled = { as: 'lost', why: `run ${runAddress} is closed and the job awaits no result from this node` };
  } else {
    const judged = judge(ending, job);
    if ('as' in judged) settled = judged;
    else next = judged;
  }
  if (settled !== undefined) {
    if (draft.status.currentRun === runAddress) return count(ctx, record, job, settled);
    // The status write that counted it happened; only the record is left.
    return draft.decided({ kind: 'releaseRun', runAddress }, { afterMs: NEXT_STEP_MS });
  }
  if (draft.status.currentRun !== runAddress) {
    // A status that lost the run (recreated, restored from a backup) names it again before
    // anything is sent, so that its ending is counted when it settles.
    nameRun(draft, runAddress, jobAddress, heldRun(chain, runAddress));
    showBusy(ctx, `ending job ${jobAddress}`);
    return draft.decided({ kind: 'none' }, { afterMs: NEXT_STEP_MS });
  }
  if (ending === undefined || next === undefined) {
    const cid = result?.cid ?? '';
    const kind: EndingKind = byPoster ? 'complete' : 'finish';
    const reason = byPoster ? 'its poster ended the job while it ran' : `the flow ended (${result?.flowStatus ?? '?'})`;
    showBusy(ctx, deliveringMessage(jobAddress, result?.flowStatus));
    return draft.decided(
      { kind: 'prepare', ending: kind, jobAddress, runAddress, resultCid: cid, reason, failures: 0 },
      { afterMs: NEXT_STEP_MS },
    );
  }
  return follow(ctx, record, ending, next);
}

/**
 * An ending signed by another key than the node's: nothing of it is sent, counted or released, and
 * nothing new is signed for the run, until a person looks at the record.
 */
function foreign(ctx: NodeContext, record: RunRecord, ending: RecordedEnding): NodeDecision {
  const { draft } = ctx;
  const { signed } = ending;
  const message =
    `the record of run ${record.runAddress} holds a ${signed.kind} (signature ${signed.signature}) signed by ${signed.node}, ` +
    `not by this node ${ctx.address}; nothing is sent or signed for the run until a person looks at the record (was the key Secret changed?)`;
  draft.error(message);
  if (findCondition(draft.status.conditions, 'Ready')?.reason !== 'EndingFailed') draft.event('Warning', 'EndingFailed', message);
  draft.stall('EndingFailed', message);
  return draft.decided({ kind: 'none' });
}

/** Sends, waits, signs complete instead, or signs again, for an ending that has not settled. */
function follow(ctx: NodeContext, record: RunRecord, ending: RecordedEnding, next: Next): NodeDecision {
  const { draft, settings } = ctx;
  const { signed } = ending;
  const what = `${signed.kind} of job ${record.jobAddress} (signature ${signed.signature})`;
  switch (next.step) {
    case 'resend':
      // The same bytes, again: the cluster de-duplicates them by signature.
      showBusy(
        ctx,
        signed.kind === 'quit'
          ? quittingMessage(record.jobAddress, ending.reason)
          : deliveringMessage(record.jobAddress, record.result?.flowStatus),
      );
      return draft.decided({ kind: 'broadcast', signed }, { afterMs: ENDING_POLL_MS });
    case 'wait':
      if (ending.outcome.outcome === 'unreadable') draft.error(`the ${signed.kind} of job ${record.jobAddress}: ${next.message}`);
      showBusy(ctx, `sent the ${what}; ${next.message}`);
      return draft.decided({ kind: 'none' }, { backoff: true });
    case 'complete': {
      // The run closed under a finish that never took: the same result goes to the job with complete.
      showBusy(ctx, `the ${what} did not take and its poster ended the job; signing complete with the same result`);
      const resultCid = signed.kind === 'quit' ? record.result?.cid : signed.resultCid;
      const reason = 'its poster ended the job while it ran';
      const action = {
        kind: 'prepare',
        ending: 'complete',
        jobAddress: record.jobAddress,
        runAddress: record.runAddress,
        reason,
        failures: 0,
      } as const;
      return draft.decided({ ...action, ...(resultCid === undefined ? {} : { resultCid }) }, { afterMs: NEXT_STEP_MS });
    }
    case 'resign':
      break;
  }
  const failures = ending.failures + (next.failed ? 1 : 0);
  if (next.failed) draft.error(`the ${signed.kind} of job ${record.jobAddress}: ${next.message}`);
  if (next.failed && failures >= settings.maxEndingFailures) {
    const message = `the ${what}: ${next.message}; ${failures} signed versions of it failed, so no more are sent until a person looks (the run's record keeps the last one)`;
    // Announced once: until a person acts, later reconciles find the same.
    if (findCondition(draft.status.conditions, 'Ready')?.reason !== 'EndingFailed') draft.event('Warning', 'EndingFailed', message);
    draft.stall('EndingFailed', message);
    return draft.decided({ kind: 'none' });
  }
  showBusy(ctx, `the ${what}: ${next.message}; signing it again`);
  draft.event(
    next.failed ? 'Warning' : 'Normal',
    next.failed ? 'EndingFailed' : 'EndingExpired',
    `the ${what}: ${next.message}; it is signed again`,
  );
  return draft.decided(
    { kind: 'resign', signed, reason: ending.reason, failures },
    next.failed ? { backoff: true } : { afterMs: NEXT_STEP_MS },
  );
}

/** The shared rule's verdict on a recorded ending, in this decision's terms. */
function judge(ending: RecordedEnding, job: JobView | undefined): Settled | Next {
  const { outcome } = ending;
  if (outcome.outcome === 'unreadable') return { step: 'wait', message: `whether it landed cannot be told yet: ${outcome.error}` };
  const step = decideNodeTransactionStep(ending.signed, outcome, observeJob(job));
  switch (step.step) {
    case 'done':
      // A quit whose run the poster's `end` closed never took: the job ended another way.
      if (step.reason === 'run-closed' && outcome.outcome !== 'landed' && endedByPoster(job))
        return { as: 'lost', why: `its poster ended it before the quit took (end paid this node for the time it ran)` };
      return { as: 'landed' };
    case 'resend':
    case 'wait':
      return { step: step.step, message: step.message };
    case 'resign':
      return { step: 'resign', failed: step.reason === 'failed', message: step.message };
    case 'give-up':
      return step.reason === 'ended-by-poster' && ending.signed.kind === 'finish'
        ? { step: 'complete', message: step.message }
        : { as: 'lost', why: step.message };
  }
}

/** The one status write that counts the run's ending and stops naming the run. */
function count(ctx: NodeContext, record: RunRecord, job: JobView | undefined, settled: Settled): NodeDecision {
  const { draft } = ctx;
  const { jobAddress, runAddress } = record;
  // A landed finish with the job still read as running: the read predates the landing. Counted
  // from it, the job's pay could not be read (the count happens once), so the next read decides.
  if (settled.as === 'landed' && record.ending?.signed.kind !== 'quit' && job?.status === 'RUNNING') {
    showBusy(ctx, deliveringMessage(jobAddress, record.result?.flowStatus));
    return draft.decided({ kind: 'none' }, { afterMs: NEXT_STEP_MS });
  }
  forgetRun(draft, runAddress);
  const ending = record.ending;
  let message: string;
  if (settled.as === 'lost') {
    message = `nothing more can be sent for job ${jobAddress}: ${settled.why}`;
    draft.event('Warning', 'EndingLost', message);
  } else if (ending?.signed.kind === 'quit') {
    draft.status.jobsQuit = (draft.status.jobsQuit ?? 0) + 1;
    message = `quit job ${jobAddress}: ${ending.reason}; nothing was earned`;
    draft.event('Warning', 'Quit', message);
  } else {
    const flowStatus = record.result?.flowStatus;
    if (flowStatus === 'success') draft.status.jobsCompleted = (draft.status.jobsCompleted ?? 0) + 1;
    else draft.status.jobsFailed = (draft.status.jobsFailed ?? 0) + 1;
    const earned = earnedFrom(job);
    if (earned !== undefined) {
      const total = BigInt(draft.status.earningsBaseUnits ?? '0') + earned;
      draft.status.earningsBaseUnits = total.toString();
      draft.status.earnings = formatNos(total);
    }
    const how = ending?.signed.kind === 'complete' ? 'its poster ended it; the result was delivered with complete' : 'finished';
    const pay = earned === undefined ? 'what it earned cannot be read (the job account is gone)' : `earned ${formatNos(earned)} NOS`;
    message = `job ${jobAddress} ${how} (flow ${flowStatus ?? '?'}, result ${record.result?.cid ?? '?'}); ${pay}`;
    draft.event('Normal', 'Finished', message);
  }
  showIdle(ctx, message);
  return draft.decided({ kind: 'none' }, { afterMs: NEXT_STEP_MS });
}

/** What the job paid this node: its price for the time it ran, capped at its timeout. */
function earnedFrom(job: JobView | undefined): bigint | undefined {
  if (job === undefined || job.status !== 'COMPLETED') return undefined;
  const { price, timeStart, timeEnd, timeout } = job.account;
  return jobCost(price, timeEnd - timeStart, timeout);
}
