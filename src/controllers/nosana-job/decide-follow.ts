// What happens next to a NosanaJob whose job exists (or existed) on chain: the follow rows of
// decide.ts's table. Pure: the status so far, what job-world.ts read, the spec and the clock.
import type { NosanaJobStatus } from '../../api/crds/nosana-job.ts';
import type { JobView } from '../../chain/jobs-client.ts';
import { formatNos, jobCost } from '../../chain/money.ts';
import { bytes32ToCid, isNoResult } from '../../ipfs/cid.ts';
import { findCondition } from '../../runtime/conditions.ts';
import { Draft, UNSEEN_GRACE_MS } from './decision.ts';
import type { Decision, DecisionSettings, FollowWorld, JobAction } from './decision.ts';
import { judgeResult } from './result.ts';
import type { EndedBy, ResultVerdict } from './result.ts';
import { chainTime, isoSeconds } from './job-status.ts';
import { opSummaries } from './status-ops.ts';

interface Ending {
  phase: ResultVerdict['phase'];
  reason: string;
  message: string;
  outcome: string;
}

/** Decides what happens next to the job of `world`, from the status so far. */
export function decideFollow(status: NosanaJobStatus, world: FollowWorld, settings: DecisionSettings): Decision {
  const draft = new Draft(status, settings);
  draft.attempt(world.address);
  // An adopted job says so in its attempt: it is never counted as spent, acted on or cancelled.
  if (world.origin === 'adopted' && draft.attempt(world.address).origin === undefined)
    draft.updateAttempt(world.address, { origin: 'adopted' });
  if (world.job === undefined) return decideGone(draft, world, settings);
  // Seen again: a read that missed it was a lagging one.
  if (draft.attempt(world.address).missingSince !== undefined) draft.updateAttempt(world.address, { missingSince: undefined });
  recordJobAccount(draft, world.job);
  switch (world.job.status) {
    case 'QUEUED':
      return decideQueued(draft, world, world.job, settings);
    case 'RUNNING':
      return decideRunning(draft, world, world.job, settings);
    case 'COMPLETED':
      return decideCompleted(draft, world, world.job, settings);
    case 'STOPPED':
      return decideStopped(draft, world, world.job, settings);
  }
}

function poll(draft: Draft, settings: DecisionSettings, action: JobAction = { kind: 'none' }): Decision {
  return { status: draft.status, action, requeueAfterMs: settings.pollIntervalMs, events: draft.events, forget: false };
}

function conclude(draft: Draft, address: string, ending: Ending, endedAt: string): Decision {
  draft.updateAttempt(address, { outcome: ending.outcome, endedAt });
  // An ended job holds no place in a queue.
  delete draft.status.queuePosition;
  draft.moveTo(ending.phase, ending.reason, ending.message, ending.phase === 'Succeeded' ? 'Normal' : 'Warning');
  return { status: draft.status, action: { kind: 'none' }, events: draft.events, forget: true };
}

function recordJobAccount(draft: Draft, job: JobView): void {
  const { account } = job;
  draft.status.jobAddress = job.address.toBase58();
  draft.status.marketAddress = account.market.toBase58();
  draft.status.price = formatNos(account.price);
  draft.status.priceBaseUnits = account.price.toString();
  draft.status.ipfsJob = bytes32ToCid(account.ipfsJob);
}

/** A raised spec.timeout is paid for (posted jobs only; act.ts checks it against budget and limit). */
function extension(world: FollowWorld, job: JobView, settings: DecisionSettings): JobAction {
  if (world.origin !== 'posted' || settings.wantedTimeout === undefined || settings.wantedTimeout <= job.account.timeout)
    return { kind: 'none' };
  return { kind: 'extend', timeoutSeconds: settings.wantedTimeout };
}

function decideQueued(draft: Draft, world: FollowWorld, job: JobView, settings: DecisionSettings): Decision {
  // A queued job has not ended: an ending recorded before a transaction that then failed no
  // longer holds (it is recorded again when the action is retried).
  draft.updateAttempt(world.address, { outcome: undefined });
  if (world.queuePosition === undefined) delete draft.status.queuePosition;
  else draft.status.queuePosition = world.queuePosition;
  const waiting = `job ${world.address} is waiting in the queue of market ${job.account.market.toBase58()} for a node`;
  // Straight from Posting, the Posted Event of the landing has said it (a write per job saved);
  // a job adopted or back from Running is announced.
  if (draft.status.phase === 'Posting') draft.setPhase('Queued', 'Queued', waiting);
  else draft.moveTo('Queued', 'Queued', waiting);
  const postedAt = Date.parse(draft.attempt(world.address).postedAt ?? '');
  if (
    world.origin === 'posted' &&
    settings.queueTimeout !== undefined &&
    Number.isFinite(postedAt) &&
    settings.now.getTime() >= postedAt + settings.queueTimeout.ms
  ) {
    draft.updateAttempt(world.address, { outcome: 'QueueTimeout' });
    return poll(draft, settings, { kind: 'delist', ending: 'QueueTimeout' });
  }
  return poll(draft, settings, extension(world, job, settings));
}

function runningMessage(world: FollowWorld, job: JobView): string {
  return `node ${job.run?.account.node.toBase58() ?? '?'} runs job ${world.address}`;
}

function decideRunning(draft: Draft, world: FollowWorld, job: JobView, settings: DecisionSettings): Decision {
  const run = job.run;
  if (run === undefined) throw new Error(`job ${world.address} is RUNNING without a run account`);
  draft.updateAttempt(world.address, { outcome: undefined, node: run.account.node.toBase58() });
  const newRun = draft.status.runAddress !== run.address.toBase58();
  draft.status.node = run.account.node.toBase58();
  draft.status.runAddress = run.address.toBase58();
  draft.status.timeStart = chainTime(run.account.time);
  delete draft.status.queuePosition;
  if (newRun) delete draft.status.serviceUrls;
  if (world.services !== undefined && (newRun || draft.status.serviceUrls === undefined)) {
    if (world.services.urls !== undefined) draft.status.serviceUrls = world.services.urls;
    draft.moveTo('Running', world.services.reason, world.services.message);
  } else {
    // Same run, services already worked out: keep what was recorded (the definition is immutable).
    const ready = findCondition(draft.status.conditions, 'Ready');
    const keep = draft.status.phase === 'Running' && ready !== undefined;
    draft.moveTo(
      'Running',
      keep && ready.reason === 'ServiceRunning' ? 'ServiceRunning' : 'Running',
      keep ? ready.message : runningMessage(world, job),
    );
  }
  const deadlineMs = Number(run.account.time + job.account.timeout) * 1000;
  if (world.origin === 'posted' && settings.now.getTime() > deadlineMs + settings.deadNodeGraceMs) {
    draft.updateAttempt(world.address, { outcome: 'NodeSilent' });
    return poll(draft, settings, { kind: 'end', ending: 'NodeSilent' });
  }
  return poll(draft, settings, extension(world, job, settings));
}

/** Whoever ended the job: the node (finish), this operator (end, dead node) or someone else (end). */
function endedBy(draft: Draft, world: FollowWorld, job: JobView): EndedBy {
  const outcome = draft.attempt(world.address).outcome;
  if (outcome === 'NodeSilent') return 'operator';
  // `finish` always sets a result; a job done without one was `end`ed, and not by us.
  if (outcome === 'Cancelled' || isNoResult(job.account.ipfsResult)) return 'other';
  return 'node';
}

function noResultEnding(by: EndedBy, why: string): Ending {
  if (by === 'other')
    return { phase: 'Stopped', reason: 'Cancelled', outcome: 'Cancelled', message: `the job was ended outside this resource; ${why}` };
  return {
    phase: 'Failed',
    reason: 'NoResult',
    outcome: 'NoResult',
    message: by === 'operator' ? `the job was ended after its node went silent; ${why}` : why,
  };
}

function decideCompleted(draft: Draft, world: FollowWorld, job: JobView, settings: DecisionSettings): Decision {
  const { account } = job;
  const elapsed = account.timeEnd > account.timeStart ? account.timeEnd - account.timeStart : 0n;
  const cost = jobCost(account.price, elapsed, account.timeout);
  Object.assign(draft.status, {
    node: account.node.toBase58(),
    timeStart: chainTime(account.timeStart),
    timeEnd: chainTime(account.timeEnd),
    duration: Number(elapsed),
    cost: formatNos(cost),
    costBaseUnits: cost.toString(),
  } satisfies Partial<NosanaJobStatus>);
  delete draft.status.runAddress;
  delete draft.status.queuePosition;
  const by = endedBy(draft, world, job);
  draft.updateAttempt(world.address, { node: account.node.toBase58(), ...(by === 'other' ? { outcome: 'Cancelled' } : {}) });

  // After `end` the node may still deliver its result with `complete`; wait a bounded time for it.
  const waitUntil =
    Math.max(Number(account.timeEnd) * 1000, Date.parse(draft.attempt(world.address).postedAt ?? '') || 0) + settings.resultWaitMs;
  const waiting = settings.now.getTime() < waitUntil;
  const endedAt = chainTime(account.timeEnd);
  if (isNoResult(account.ipfsResult) || world.result === undefined) {
    if (waiting || !isNoResult(account.ipfsResult)) {
      draft.moveTo(
        'Running',
        'Running',
        `job ${world.address} was ended at ${endedAt}; waiting until ${isoSeconds(new Date(waitUntil))} for its node's result`,
      );
      return poll(draft, settings);
    }
    return conclude(
      draft,
      world.address,
      noResultEnding(by, `no result arrived within ${settings.resultWaitMs / 1000}s of the end`),
      endedAt,
    );
  }

  const cid = bytes32ToCid(account.ipfsResult);
  draft.status.ipfsResult = cid;
  if ('error' in world.result) {
    const problem = `the result document ${cid} could not be read: ${world.result.error}`;
    if (waiting && !world.result.permanent) {
      draft.moveTo('Running', 'Running', `job ${world.address} ended at ${endedAt}; ${problem} (retrying)`);
      return poll(draft, settings);
    }
    return conclude(draft, world.address, noResultEnding(by, problem), endedAt);
  }
  const { document } = world.result;
  draft.status.ops = opSummaries(document.ops, settings.logTailMaxBytes);
  const verdict = judgeResult(document, by);
  const concluded = conclude(
    draft,
    world.address,
    { ...verdict, message: `${verdict.message}; cost ${formatNos(cost)} NOS for ${elapsed}s` },
    endedAt,
  );
  // The result is in the status; the full logs go to the logs ConfigMap (act.ts).
  return document.ops.length === 0 ? concluded : { ...concluded, action: { kind: 'storeLogs', ops: document.ops } };
}

function decideStopped(draft: Draft, world: FollowWorld, job: JobView, settings: DecisionSettings): Decision {
  delete draft.status.runAddress;
  const quit = `the node quit job ${world.address}`;
  // Whose it is is not known yet: whether to recover it (posted) or report it (adopted) waits.
  if (world.origin === 'unverified') return poll(draft, settings);
  if (world.origin === 'adopted') {
    return conclude(
      draft,
      world.address,
      {
        phase: 'Stopped',
        reason: 'NodeQuit',
        outcome: 'NodeQuit',
        message: `${quit}; its deposit stays in the market until the job's project recovers it`,
      },
      isoSeconds(settings.now),
    );
  }
  void job;
  draft.updateAttempt(world.address, { outcome: 'NodeQuit' });
  return poll(draft, settings, { kind: 'recover', ending: 'NodeQuit' });
}

/** A quit job's deposit is back: post a fresh job while spec.retries allows, else stop. */
function afterNodeQuit(draft: Draft, world: FollowWorld, settings: DecisionSettings): Decision {
  const attempts = draft.status.attempts?.length ?? 1;
  const ending: Ending = {
    phase: 'Stopped',
    reason: 'NodeQuit',
    outcome: 'NodeQuit',
    message: `the node quit job ${world.address} and no retries are left (spec.retries: ${settings.retries}); its deposit was recovered`,
  };
  const now = isoSeconds(settings.now);
  if (attempts - 1 >= settings.retries) return conclude(draft, world.address, ending, draft.attempt(world.address).endedAt ?? now);
  draft.updateAttempt(world.address, { outcome: 'NodeQuit', endedAt: draft.attempt(world.address).endedAt ?? now });
  for (const field of [
    'jobAddress',
    'runAddress',
    'node',
    'timeStart',
    'timeEnd',
    'duration',
    'queuePosition',
    'serviceUrls',
    'cost',
    'costBaseUnits',
    'ipfsResult',
  ] as const) {
    delete draft.status[field];
  }
  draft.event('Normal', 'Reposting', `the node quit job ${world.address}; posting attempt ${attempts + 1} of ${settings.retries + 1}`);
  return { status: draft.status, action: { kind: 'repost' }, events: draft.events, forget: true };
}

function decideGone(draft: Draft, world: FollowWorld, settings: DecisionSettings): Decision {
  const address = world.address;
  const attempt = draft.attempt(address);
  const now = isoSeconds(settings.now);
  switch (attempt.outcome) {
    case 'QueueTimeout':
      return conclude(
        draft,
        address,
        {
          phase: 'Stopped',
          reason: 'QueueTimeout',
          outcome: 'QueueTimeout',
          message: `no node took job ${address} within spec.queueTimeout (${settings.queueTimeout?.text ?? '?'}); it was delisted and its deposit refunded`,
        },
        attempt.endedAt ?? now,
      );
    case 'NodeQuit':
      return afterNodeQuit(draft, world, settings);
    case 'NodeSilent':
      return conclude(
        draft,
        address,
        noResultEnding('operator', `job ${address} was closed before a result arrived`),
        attempt.endedAt ?? now,
      );
    default:
      break;
  }
  if (world.origin === 'unverified') return poll(draft, settings);
  const mirrored = draft.status.phase === 'Queued' || draft.status.phase === 'Running';
  if (!mirrored && world.origin === 'adopted') {
    draft.moveTo(
      'Pending',
      'Pending',
      `job ${address} does not exist on ${settings.network ?? 'the chain'} (never posted, or already closed): nothing to adopt`,
      'Warning',
    );
    return poll(draft, settings);
  }
  if (!mirrored && settings.now.getTime() - (Date.parse(attempt.postedAt ?? '') || 0) < UNSEEN_GRACE_MS) return poll(draft, settings);
  if (mirrored) {
    // No single read ends a job that was queued or running: it must stay missing for a while.
    const missingSince = attempt.missingSince ?? now;
    if (attempt.missingSince === undefined) draft.updateAttempt(address, { missingSince });
    if (settings.now.getTime() - Date.parse(missingSince) < UNSEEN_GRACE_MS) return poll(draft, settings);
  }
  if (world.goneAtFinality !== true) return poll(draft, settings);
  return conclude(
    draft,
    address,
    {
      phase: 'Stopped',
      reason: 'Cancelled',
      outcome: 'Cancelled',
      message: `job ${address} no longer exists on chain: it was delisted, recovered or closed outside this resource`,
    },
    now,
  );
}
