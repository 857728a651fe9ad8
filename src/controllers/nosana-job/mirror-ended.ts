// How a job's time on chain ends, mirrored: COMPLETED (result document, ops, logs, cost), STOPPED
// (its node quit: the deposit is recovered and the job posted again while spec.retries allows)
// and gone (the account was closed). The result is stored in the resource before the job is
// forgotten, and the operator never `clean`s, so nothing is lost to a closed account.
import type { PublicKey } from '@solana/web3.js';
import type { NosanaJobStatus } from '../../api/crds/nosana-job.ts';
import { formatNos, jobCost } from '../../chain/money.ts';
import { bytes32ToCid, isNoResult } from '../../ipfs/cid.ts';
import type { NetworkPorts } from '../network-ports.ts';
import type { JobReconcileContext, StepOutcome } from './context.ts';
import { attemptFor, chainTime, isoSeconds, moveTo, pollAgain, recordIntent, updateAttempt } from './job-status.ts';
import type { Observation } from './job-status.ts';
import { posterWallet, recoverJob } from './chain-actions.ts';
import { buildLogsConfigMap } from './logs-configmap.ts';
import { ResultDocumentError, judgeResult, readResultDocument } from './result.ts';
import { opSummaries } from './status-ops.ts';
import type { EndedBy, OpOutcome, ResultDocument, ResultVerdict } from './result.ts';

/**
 * How long a job this resource posted may be missing before it counts as closed by someone else:
 * a load-balanced RPC can answer from a node a few slots behind the one that confirmed the post.
 */
const UNSEEN_GRACE_MS = 60_000;

/** How an attempt ends: a terminal (phase, reason) of the phase table and the attempt's outcome. */
interface Ending {
  phase: ResultVerdict['phase'];
  reason: string;
  message: string;
  outcome: string;
}

/** Records the ending, stops polling the job, and moves to the terminal phase. */
function conclude(ctx: JobReconcileContext, ports: NetworkPorts, job: PublicKey, ending: Ending, endedAt: string): StepOutcome {
  updateAttempt(ctx, job, { outcome: ending.outcome, endedAt });
  ports.watcher.forget(job);
  moveTo(ctx, ending.phase, ending.reason, ending.message, ending.phase === 'Succeeded' ? 'Normal' : 'Warning');
  return {};
}

/** Whoever ended the job: the node (finish), this operator (end, dead node) or someone else (end). */
function endedBy(ctx: JobReconcileContext, { job }: Observation): EndedBy {
  const outcome = attemptFor(ctx, job.address).outcome;
  if (outcome === 'NodeSilent') return 'operator';
  // `finish` always sets a result; a job done without one was `end`ed, and not by us.
  if (outcome === 'Cancelled' || isNoResult(job.account.ipfsResult)) return 'other';
  return 'node';
}

export async function mirrorCompleted(observation: Observation): Promise<StepOutcome> {
  const { ctx, ports, job } = observation;
  const { account } = job;
  const elapsed = account.timeEnd > account.timeStart ? account.timeEnd - account.timeStart : 0n;
  const cost = jobCost(account.price, elapsed, account.timeout);
  Object.assign(ctx.status, {
    node: account.node.toBase58(), timeStart: chainTime(account.timeStart), timeEnd: chainTime(account.timeEnd),
    duration: Number(elapsed), cost: formatNos(cost), costBaseUnits: cost.toString(),
  } satisfies Partial<NosanaJobStatus>);
  delete ctx.status.runAddress;
  delete ctx.status.queuePosition;
  const by = endedBy(ctx, observation);
  updateAttempt(ctx, job.address, { node: account.node.toBase58(), ...(by === 'other' ? { outcome: 'Cancelled' } : {}) });

  // After `end` the node may still deliver its result with `complete`; wait a bounded time for it.
  const waitUntil = Math.max(Number(account.timeEnd) * 1000, Date.parse(attemptFor(ctx, job.address).postedAt ?? '') || 0) + ctx.deps.options.resultWaitMs;
  const waiting = ctx.deps.now().getTime() < waitUntil;
  const endedAt = chainTime(account.timeEnd);
  if (isNoResult(account.ipfsResult)) {
    if (waiting) {
      moveTo(ctx, 'Running', 'Running', `job ${job.address.toBase58()} was ended at ${endedAt}; waiting until ${isoSeconds(new Date(waitUntil))} for its node's result`);
      return pollAgain(ctx);
    }
    return conclude(ctx, ports, job.address, noResultEnding(by, `no result arrived within ${ctx.deps.options.resultWaitMs / 1000}s of the end`), endedAt);
  }

  const cid = bytes32ToCid(account.ipfsResult);
  ctx.status.ipfsResult = cid;
  let document: ResultDocument;
  try {
    document = await readResultDocument(ports.gateway, cid, ctx.signal);
  } catch (error) {
    const problem = `the result document ${cid} could not be read: ${(error as Error).message}`;
    if (waiting && !(error instanceof ResultDocumentError)) {
      ctx.log.warn({ err: error, cid }, 'reading the result document failed; retrying');
      moveTo(ctx, 'Running', 'Running', `job ${job.address.toBase58()} ended at ${endedAt}; ${problem} (retrying)`);
      return pollAgain(ctx);
    }
    return conclude(ctx, ports, job.address, noResultEnding(by, problem), endedAt);
  }
  ctx.status.ops = opSummaries(document.ops, ctx.deps.options.logTailMaxBytes);
  if (document.ops.length > 0) {
    const name = await writeLogs(ctx, job.address, document.ops);
    if (name === undefined) delete ctx.status.logsConfigMap;
    else ctx.status.logsConfigMap = name;
  }
  const verdict = judgeResult(document, by);
  return conclude(ctx, ports, job.address, { ...verdict, message: `${verdict.message}; cost ${formatNos(cost)} NOS for ${elapsed}s` }, endedAt);
}

function noResultEnding(by: EndedBy, why: string): Ending {
  if (by === 'other') return { phase: 'Stopped', reason: 'Cancelled', outcome: 'Cancelled', message: `the job was ended outside this resource; ${why}` };
  return { phase: 'Failed', reason: 'NoResult', outcome: 'NoResult', message: by === 'operator' ? `the job was ended after its node went silent; ${why}` : why };
}

/**
 * Writes the logs ConfigMap. When that fails (a quota, missing RBAC) the result already read is
 * written to the status before the error is passed on for a retry: the job account, and with it
 * the result CID, may be cleaned by anyone a day after the job ended.
 */
async function writeLogs(ctx: JobReconcileContext, job: PublicKey, ops: readonly OpOutcome[]): Promise<string | undefined> {
  const configMap = buildLogsConfigMap(ctx.object, ops, ctx.deps.options.logsConfigMapMaxBytes);
  const name = configMap.metadata?.name ?? '';
  // A ConfigMap of that name that this NosanaJob does not own is someone else's: never overwrite it.
  const existing = await ctx.deps.reader.getConfigMap({ namespace: ctx.object.metadata?.namespace ?? '', name });
  if (existing !== undefined && !(existing.metadata?.ownerReferences ?? []).some((owner) => owner.uid === ctx.object.metadata?.uid)) {
    ctx.event('Warning', 'LogsConfigMapTaken', `ConfigMap ${name} exists and is not owned by this NosanaJob; the logs of job ${job.toBase58()} stay in status.ops (tails) and on IPFS`);
    return undefined;
  }
  try {
    await ctx.deps.writer.applyObject(configMap);
  } catch (error) {
    const message = `job ${job.toBase58()} ended and its result is stored, but its logs ConfigMap ${name} could not be written: ${(error as Error).message}; retrying`;
    moveTo(ctx, 'Running', 'Running', message);
    ctx.event('Warning', 'LogsNotStored', message);
    await ctx.writeStatus();
    throw error;
  }
  return name;
}

/**
 * The node quit (state STOPPED, no run). An adopted job is only reported; a posted one has its
 * deposit recovered (the quitting node is paid nothing) and is posted again while retries remain.
 */
export async function mirrorStopped(observation: Observation): Promise<StepOutcome> {
  const { ctx, ports, job, origin } = observation;
  delete ctx.status.runAddress;
  const address = job.address.toBase58();
  const quit = `the node quit job ${address}`;
  if (origin === 'adopted') {
    return conclude(ctx, ports, job.address, {
      phase: 'Stopped', reason: 'NodeQuit', outcome: 'NodeQuit', message: `${quit}; its deposit stays in the market until the job's project recovers it`,
    }, isoSeconds(ctx.deps.now()));
  }
  const poster = await posterWallet(ctx, job);
  if ('refused' in poster) {
    return conclude(ctx, ports, job.address, { phase: 'Stopped', reason: 'NodeQuit', outcome: 'NodeQuit', message: `${quit}; ${poster.refused}` }, isoSeconds(ctx.deps.now()));
  }
  await recordIntent(ctx, job.address, 'NodeQuit');
  ctx.event('Normal', 'Recovered', `${quit}: ${await recoverJob(ctx, ports, job, poster.wallet)}`);
  return afterNodeQuit(ctx, ports, job.address);
}

/** A quit job's deposit is back: post a fresh job while spec.retries allows, else stop. */
function afterNodeQuit(ctx: JobReconcileContext, ports: NetworkPorts, job: PublicKey): StepOutcome {
  const retries = ctx.object.spec.retries ?? 2;
  const attempts = ctx.status.attempts?.length ?? 1;
  const ending: Ending = {
    phase: 'Stopped', reason: 'NodeQuit', outcome: 'NodeQuit',
    message: `the node quit job ${job.toBase58()} and no retries are left (spec.retries: ${retries}); its deposit was recovered`,
  };
  if (attempts - 1 >= retries) return conclude(ctx, ports, job, ending, isoSeconds(ctx.deps.now()));
  updateAttempt(ctx, job, { outcome: 'NodeQuit', endedAt: isoSeconds(ctx.deps.now()) });
  ports.watcher.forget(job);
  clearJobMirror(ctx.status);
  ctx.event('Normal', 'Reposting', `the node quit job ${job.toBase58()}; posting attempt ${attempts + 1} of ${retries + 1}`);
  return { repost: true };
}

/** What described the previous attempt's job; the next attempt fills it in again. */
function clearJobMirror(status: NosanaJobStatus): void {
  for (const field of ['jobAddress', 'runAddress', 'node', 'timeStart', 'timeEnd', 'duration', 'queuePosition', 'serviceUrls', 'cost', 'costBaseUnits', 'ipfsResult'] as const) {
    delete status[field];
  }
}

/**
 * The job account is gone. An ending this operator recorded before acting says what happened (the
 * status write after the transaction may have been lost to a crash); otherwise someone else closed
 * it, or, for a job just posted or adopted, it was never seen. No single read ends a job that was
 * queued or running: a load-balanced RPC can answer from a node that has not seen it yet, and
 * ending the mirror would also end queueTimeout and dead-node handling. The job counts as closed
 * by someone else only once it has stayed missing for a minute and a finalized read agrees.
 */
export async function mirrorGone(ctx: JobReconcileContext, ports: NetworkPorts, job: PublicKey, origin: 'posted' | 'adopted'): Promise<StepOutcome> {
  const address = job.toBase58();
  const attempt = attemptFor(ctx, job);
  const now = isoSeconds(ctx.deps.now());
  switch (attempt.outcome) {
    case 'QueueTimeout':
      return conclude(ctx, ports, job, { phase: 'Stopped', reason: 'QueueTimeout', outcome: 'QueueTimeout', message: `no node took job ${address} within spec.queueTimeout; it was delisted and its deposit refunded` }, attempt.endedAt ?? now);
    case 'NodeQuit':
      return afterNodeQuit(ctx, ports, job);
    case 'NodeSilent':
      return conclude(ctx, ports, job, noResultEnding('operator', `job ${address} was closed before a result arrived`), attempt.endedAt ?? now);
    default:
      break;
  }
  const mirrored = ctx.status.phase === 'Queued' || ctx.status.phase === 'Running';
  if (!mirrored && origin === 'adopted') {
    moveTo(ctx, 'Pending', 'Pending', `job ${address} does not exist on ${ports.settings.name} (never posted, or already closed): nothing to adopt`, 'Warning');
    return pollAgain(ctx);
  }
  if (!mirrored && ctx.deps.now().getTime() - (Date.parse(attempt.postedAt ?? '') || 0) < UNSEEN_GRACE_MS) return pollAgain(ctx);
  if (mirrored) {
    const missingSince = attempt.missingSince ?? now;
    if (attempt.missingSince === undefined) updateAttempt(ctx, job, { missingSince });
    if (ctx.deps.now().getTime() - Date.parse(missingSince) < UNSEEN_GRACE_MS) return pollAgain(ctx);
  }
  if (await ports.jobs.getJob(job, { commitment: 'finalized' }) !== undefined) return pollAgain(ctx);
  return conclude(ctx, ports, job, {
    phase: 'Stopped', reason: 'Cancelled', outcome: 'Cancelled', message: `job ${address} no longer exists on chain: it was delisted, recovered or closed outside this resource`,
  }, now);
}
