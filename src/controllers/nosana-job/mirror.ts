// Mirroring a job that exists on chain into its NosanaJob, and keeping it from hanging: a job
// queued past spec.queueTimeout is delisted, a raised spec.timeout is paid for with `extend`, and
// a job whose node went silent past its deadline is ended. Endings (results, quits, a gone
// account) are in mirror-ended.ts. Adopted jobs are only mirrored: the operator never pays for
// or acts on a job it did not post.
import type { PublicKey } from '@solana/web3.js';
import type { JobView } from '../../chain/jobs-client.ts';
import { formatNos } from '../../chain/money.ts';
import { bytes32ToCid } from '../../ipfs/cid.ts';
import { findCondition } from '../../runtime/conditions.ts';
import type { JobReconcileContext, StepOutcome } from './context.ts';
import { attemptFor, chainTime, isoSeconds, moveTo, pollAgain, recordIntent, updateAttempt } from './job-status.ts';
import type { Observation } from './job-status.ts';
import { admitExtension } from './extend-guard.ts';
import { delistJob, endJob, extendJob, posterWallet } from './chain-actions.ts';
import { mirrorCompleted, mirrorGone, mirrorStopped } from './mirror-ended.ts';
import { exposedServices } from './service-urls.ts';
import { durationSeconds } from './spec-values.ts';

/**
 * Mirrors the job at `jobAddress` into ctx.status and takes the actions its state calls for.
 * `origin` is 'posted' for jobs this resource posted (the operator may act on them) and 'adopted'
 * for spec.jobAddress (mirrored, never acted on here; only deleting the resource with
 * deletionPolicy Cancel may cancel it, and only with the job's own wallet: see finalize.ts).
 */
export async function observeJob(ctx: JobReconcileContext, jobAddress: PublicKey, origin: 'posted' | 'adopted'): Promise<StepOutcome> {
  const ports = await ctx.ports();
  // The orchestrator requeues every poll interval (the Reconciler port offers no way to wake a
  // key from outside), and the watcher's batched poll keeps the snapshot those reconciles read
  // fresh, so they cost no RPC of their own. Tracking is what puts the job in that batch.
  ports.watcher.track(jobAddress);
  attemptFor(ctx, jobAddress);
  const job = await ports.watcher.job(jobAddress);
  if (job === undefined) return mirrorGone(ctx, ports, jobAddress, origin);
  // Seen again: a read that missed it was a lagging one.
  if (attemptFor(ctx, jobAddress).missingSince !== undefined) updateAttempt(ctx, jobAddress, { missingSince: undefined });
  const observation: Observation = { ctx, ports, job, origin };
  recordJobAccount(observation);
  switch (job.status) {
    case 'QUEUED': return mirrorQueued(observation);
    case 'RUNNING': return mirrorRunning(observation);
    case 'COMPLETED': return mirrorCompleted(observation);
    case 'STOPPED': return mirrorStopped(observation);
  }
}

/** What the job account says whatever its state. */
function recordJobAccount({ ctx, job }: Observation): void {
  const { account } = job;
  ctx.status.jobAddress = job.address.toBase58();
  ctx.status.marketAddress = account.market.toBase58();
  ctx.status.price = formatNos(account.price);
  ctx.status.priceBaseUnits = account.price.toString();
  ctx.status.ipfsJob = bytes32ToCid(account.ipfsJob);
}

async function mirrorQueued(observation: Observation): Promise<StepOutcome> {
  const { ctx, ports, origin } = observation;
  // A queued job has not ended: an ending recorded before a transaction that then failed no
  // longer holds (it is recorded again when the action is retried).
  updateAttempt(ctx, observation.job.address, { outcome: undefined });
  const job = await raiseTimeout(observation);
  if (origin === 'posted' && queueDeadlinePassed(ctx, job)) return delistForQueueTimeout({ ...observation, job });
  const market = await ports.watcher.market(job.account.market);
  const position = market?.account.queue.findIndex((entry) => entry.equals(job.address)) ?? -1;
  if (position >= 0) ctx.status.queuePosition = position;
  else delete ctx.status.queuePosition;
  moveTo(ctx, 'Queued', 'Queued', `job ${job.address.toBase58()} is waiting in the queue of market ${job.account.market.toBase58()} for a node`);
  return pollAgain(ctx);
}

function queueDeadlinePassed(ctx: JobReconcileContext, job: JobView): boolean {
  const { queueTimeout } = ctx.object.spec;
  const postedAt = attemptFor(ctx, job.address).postedAt;
  if (queueTimeout === undefined || postedAt === undefined) return false;
  const deadline = Date.parse(postedAt) + Number(durationSeconds(queueTimeout, 'spec.queueTimeout')) * 1000;
  return ctx.deps.now().getTime() >= deadline;
}

async function delistForQueueTimeout({ ctx, ports, job }: Observation): Promise<StepOutcome> {
  const poster = await posterWallet(ctx, job);
  if ('refused' in poster) {
    moveTo(ctx, 'Queued', 'Queued', `spec.queueTimeout has passed but the job cannot be delisted: ${poster.refused}`, 'Warning');
    return pollAgain(ctx);
  }
  await recordIntent(ctx, job.address, 'QueueTimeout');
  const done = await delistJob(ctx, ports, job, poster.wallet);
  updateAttempt(ctx, job.address, { outcome: 'QueueTimeout', endedAt: isoSeconds(ctx.deps.now()) });
  delete ctx.status.queuePosition;
  ports.watcher.forget(job.address);
  moveTo(ctx, 'Stopped', 'QueueTimeout', `no node took the job within spec.queueTimeout (${String(ctx.object.spec.queueTimeout)}): ${done}`);
  return {};
}

/**
 * Pays for a raised spec.timeout with `extend` (posted jobs only; the admission policy refuses
 * lowering it), within spec.maxCost and the market's daily spend limit. A refused or failed
 * extension is reported and looked at again at the next poll; it does not stop the mirroring.
 * Returns the job as it is after the extension (`extend` takes the new total, so an extension
 * repeated on a stale read fails rather than charging twice).
 */
async function raiseTimeout({ ctx, ports, job, origin }: Observation): Promise<JobView> {
  const { timeout } = ctx.object.spec;
  if (origin !== 'posted' || timeout === undefined) return job;
  const wanted = durationSeconds(timeout, 'spec.timeout');
  if (wanted <= job.account.timeout) return job;
  const refused = await admitExtension(ctx, ports, job, wanted);
  if (refused !== undefined) {
    ctx.event('Warning', 'ExtendRefused', refused);
    return job;
  }
  try {
    const poster = await posterWallet(ctx, job);
    if ('refused' in poster) throw new Error(poster.refused);
    ctx.event('Normal', 'TimeoutExtended', await extendJob(ctx, ports, job, poster.wallet, wanted));
    return (await ports.watcher.job(job.address, { maxAgeMs: 0 })) ?? job;
  } catch (error) {
    ctx.event('Warning', 'ExtendFailed', `raising the timeout of job ${job.address.toBase58()} to ${wanted}s failed: ${(error as Error).message}`);
    return job;
  }
}

async function mirrorRunning(observation: Observation): Promise<StepOutcome> {
  const { ctx, origin } = observation;
  const run = observation.job.run;
  if (run === undefined) throw new Error(`job ${observation.job.address.toBase58()} is RUNNING without a run account`);
  updateAttempt(ctx, observation.job.address, { outcome: undefined, node: run.account.node.toBase58() });
  const job = await raiseTimeout(observation);
  const newRun = ctx.status.runAddress !== run.address.toBase58();
  ctx.status.node = run.account.node.toBase58();
  ctx.status.runAddress = run.address.toBase58();
  ctx.status.timeStart = chainTime(run.account.time);
  delete ctx.status.queuePosition;

  const deadlineMs = Number(run.account.time + job.account.timeout) * 1000;
  if (origin === 'posted' && ctx.deps.now().getTime() > deadlineMs + ctx.deps.options.deadNodeGraceMs) return endSilentNode({ ...observation, job });
  if (newRun || ctx.status.serviceUrls === undefined) {
    if (newRun) delete ctx.status.serviceUrls;
    const { reason, message } = await describeServices(observation);
    moveTo(ctx, 'Running', reason, message);
  } else {
    // Same run, services already worked out: keep what was recorded (the definition is immutable).
    const ready = findCondition(ctx.status.conditions, 'Ready');
    moveTo(ctx, 'Running', ready?.reason === 'ServiceRunning' ? 'ServiceRunning' : 'Running', ready?.message ?? runningMessage(observation));
  }
  return pollAgain(ctx);
}

function runningMessage({ job }: Observation): string {
  return `node ${job.run?.account.node.toBase58() ?? '?'} runs job ${job.address.toBase58()}`;
}

/**
 * Service URLs come from the job definition as pinned (the one the node runs, also for adopted
 * jobs) and are deterministic, so they are worked out once per run. A read that fails leaves
 * status.serviceUrls unset, and the next reconcile tries again.
 */
async function describeServices(observation: Observation): Promise<{ reason: 'Running' | 'ServiceRunning'; message: string }> {
  const { ctx, ports, job } = observation;
  const base = runningMessage(observation);
  let definition: unknown;
  try {
    definition = (await ports.gateway.readJson(bytes32ToCid(job.account.ipfsJob), { signal: ctx.signal })).value;
  } catch (error) {
    ctx.log.warn({ err: error }, 'reading the job definition for its service URLs failed');
    return { reason: 'Running', message: `${base} (its service URLs are not known yet: ${(error as Error).message})` };
  }
  const services = exposedServices(definition, job.address.toBase58(), ports.settings.serviceDomain);
  ctx.status.serviceUrls = services.urls;
  if (!services.exposes) return { reason: 'Running', message: base };
  const urls = services.urls.map((service) => service.url).join(', ');
  const notes = services.unknown.length === 0 ? '' : `; ${services.unknown.join('; ')}`;
  return { reason: 'ServiceRunning', message: `${base}, serving ${urls === '' ? 'ports' : urls}${notes}` };
}

/**
 * The node is past run start + timeout + grace without finishing: it is gone. `end` settles the
 * chain (the node is paid for the timeout it held, the rest comes back); the result may still
 * arrive through `complete`, which mirror-ended.ts waits for.
 */
async function endSilentNode({ ctx, ports, job }: Observation): Promise<StepOutcome> {
  const poster = await posterWallet(ctx, job);
  if ('refused' in poster) {
    moveTo(ctx, 'Running', 'Running', `the node has not finished past the job's timeout, but the job cannot be ended: ${poster.refused}`, 'Warning');
    return pollAgain(ctx);
  }
  await recordIntent(ctx, job.address, 'NodeSilent');
  const { message } = await endJob(ctx, ports, job, poster.wallet);
  ctx.event('Warning', 'NodeSilent', `node ${job.run?.account.node.toBase58() ?? '?'} did not finish within the job's timeout and grace period: ${message}; waiting for its result`);
  return pollAgain(ctx);
}
