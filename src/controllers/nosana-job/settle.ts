// Settling the post recorded in the pending-post annotation, on every reconcile until it is
// settled: read what the chain says of it (here), decide (decide-settle.ts), act (here): put a
// garbled record back from the verified copy in status, clear a record that created nothing (and
// its spend), send the same bytes again, take back a job that landed above spec.maxCost, or swap
// the record for the job-address annotation once the post landed.
import { PublicKey } from '@solana/web3.js';
import { CONFIRM_POST_ANNOTATION, JOB_ADDRESS_ANNOTATION, PENDING_POST_ANNOTATION } from '../../api/annotations.ts';
import { decodePendingPost, parsePendingPost } from '../../chain/create-once.ts';
import type { NosanaJobStatus } from '../../api/crds/nosana-job.ts';
import type { JobView, PendingPost } from '../../chain/jobs-client.ts';
import { jobDeposit } from '../../chain/money.ts';
import { killPoint } from '../../runtime/kill-points.ts';
import type { ItemBackoff } from '../../runtime/work-queue.ts';
import type { NetworkPorts } from '../network-ports.ts';
import { decisionSettings, recordEvents, sendEnding, takeDecision } from './act.ts';
import type { JobReconcileContext, StepOutcome } from './context.ts';
import { decide } from './decide.ts';
import type { JobAction, SettleWorld } from './decision.ts';
import { recordIsOwn } from './record-trust.ts';
import { isRefusal } from './refusal.ts';
import { resolveMarketReference } from './resolve.ts';
import { ledgerFor, takeBack } from './spend-ledger.ts';

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
 * The record to settle. A garbled annotation falls back to the copy in status when that copy
 * verifies: the record of a post that may have been paid is never dropped for want of a readable
 * annotation.
 */
function trustedRecord(ctx: JobReconcileContext, ports: NetworkPorts, text: string): SettleWorld['record'] {
  const fromAnnotation = verifiedRecord(ports, text);
  if ('pending' in fromAnnotation) return fromAnnotation;
  const copy = ctx.status.pendingPost;
  const fromStatus = copy === undefined ? undefined : verifiedRecord(ports, JSON.stringify(copy));
  if (fromStatus === undefined || !('pending' in fromStatus))
    return { why: `the ${PENDING_POST_ANNOTATION} annotation cannot be used: ${fromAnnotation.why}` };
  return { pending: fromStatus.pending, garbled: fromAnnotation.why };
}

async function readSettle(ctx: JobReconcileContext, ports: NetworkPorts, text: string): Promise<SettleWorld> {
  const confirm = ctx.object.metadata?.annotations?.[CONFIRM_POST_ANNOTATION];
  const world: SettleWorld = {
    stage: 'settle',
    network: ports.settings.name,
    record: trustedRecord(ctx, ports, text),
    ...(confirm === undefined ? {} : { confirm }),
  };
  if (!('pending' in world.record) || world.record.garbled !== undefined) return world;
  const { pending } = world.record;
  const own = await recordIsOwn(ctx, ports, pending);
  if (own !== true) return own === undefined ? world : { ...world, own };
  const mine = { ...world, own };
  const address = new PublicKey(pending.jobAddress);
  if (takenBack(ctx.status, pending.jobAddress)) {
    // This resource saw the post land and took it back for its price: it landed, whatever an RPC
    // without the signature in its history would say now. The record goes once finality agrees
    // the job is closed or ended, so a take-back that failed is tried again first.
    const landed = await ports.watcher.job(address, { maxAgeMs: 0 });
    if (landed !== undefined) return { ...mine, takenBack: true, landed };
    const settled = await ports.jobs.getJob(address, { commitment: 'finalized' });
    return { ...mine, takenBack: true, goneAtFinality: settled === undefined || settled.status === 'COMPLETED' };
  }
  let outcome: SettleWorld['outcome'];
  try {
    outcome = await ports.jobs.resolvePendingPost(pending);
  } catch (error) {
    return { ...mine, outcome: { readError: (error as Error).message } };
  }
  const unknown = outcome.outcome === 'unknown';
  // Only our transaction can create the recorded job account: whether it exists answers a "not landed".
  const exists = unknown && confirm === 'not-landed' ? (await ports.jobs.getJob(address)) !== undefined : undefined;
  const landing = outcome.outcome === 'landed' || (unknown && confirm === 'landed') || exists === true;
  // Fresh, not a snapshot: the landed price is checked against spec.maxCost before the job is followed.
  const landed = landing ? await ports.watcher.job(address, { maxAgeMs: 0 }) : undefined;
  return {
    ...mine,
    outcome,
    ...(exists === undefined ? {} : { exists }),
    ...(landed === undefined ? {} : { landed }),
  };
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

/** The confirm-post annotation goes with the record it settled, in the same write. */
function withoutConfirmation(ctx: JobReconcileContext): Record<string, null> {
  return ctx.object.metadata?.annotations?.[CONFIRM_POST_ANNOTATION] === undefined ? {} : { [CONFIRM_POST_ANNOTATION]: null };
}

/** The post's job exists: the record becomes the job-address annotation, in one resourceVersion-checked write. */
async function land(ctx: JobReconcileContext, ports: NetworkPorts, pending: PendingPost, job: JobView | undefined): Promise<void> {
  killPoint('post:after-landing');
  await ctx.patchMetadata({
    annotations: { [JOB_ADDRESS_ANNOTATION]: pending.jobAddress, [PENDING_POST_ANNOTATION]: null, ...withoutConfirmation(ctx) },
  });
  // A job taken back for its price was counted when it was taken back.
  if (!takenBack(ctx.status, pending.jobAddress)) countLanded(ctx, ports, job);
}

function takenBack(status: NosanaJobStatus | undefined, address: string): boolean {
  return status?.attempts?.some((attempt) => attempt.jobAddress === address && attempt.outcome === 'PriceAboveMaxCost') === true;
}

function countLanded(ctx: JobReconcileContext, ports: NetworkPorts, job: JobView | undefined): void {
  const labels = { network: ports.settings.name, market: ctx.status.marketAddress ?? job?.account.market.toBase58() ?? '' };
  ctx.deps.metrics.jobPosted(labels);
  // Counted as it entered the vault (refunds are measured against it); a network fee is not part of it.
  if (job !== undefined) ctx.deps.metrics.nosSpent(labels, jobDeposit(job.account.price, job.account.timeout));
}

/** One reconcile of a NosanaJob with a post in flight; `landed` when the post became the job-address annotation. */
export async function settlePost(
  ctx: JobReconcileContext,
  backoff: ItemBackoff,
  text: string,
): Promise<StepOutcome & { landed?: boolean }> {
  const ports = await ctx.ports();
  const world = await readSettle(ctx, ports, text);
  const decision = decide(ctx.status, world, decisionSettings(ctx, ports.settings.name));
  const next = takeDecision(ctx, decision, backoff);
  const landed = await act(ctx, ports, world, decision.action);
  // The decision's Events say what the action did: recorded once it has (a write that lost a race
  // is decided again, and would otherwise announce it twice).
  recordEvents(ctx, decision);
  return landed ? { ...next, landed } : next;
}

/** Performs the settle decision's action; true when the record became the job-address annotation. */
async function act(ctx: JobReconcileContext, ports: NetworkPorts, world: SettleWorld, action: JobAction): Promise<boolean> {
  switch (action.kind) {
    case 'restoreRecord':
      await ctx.patchMetadata({ annotations: { [PENDING_POST_ANNOTATION]: JSON.stringify(action.pending) } });
      return false;
    case 'clearRecord':
      await ctx.patchMetadata({ annotations: { [PENDING_POST_ANNOTATION]: null, ...withoutConfirmation(ctx) } });
      if (action.takeBackSpend !== undefined) await takeBackSpend(ctx, action.takeBackSpend);
      return false;
    case 'rebroadcast':
      await ports.jobs
        .broadcast(action.pending)
        .catch((error: unknown) => ctx.log.warn({ err: error }, 're-sending the pending post failed'));
      return false;
    case 'land':
      await land(ctx, ports, action.pending, world.landed);
      return true;
    case 'delist':
    case 'end': {
      const job = world.landed;
      if (job === undefined) throw new Error('a landed job was taken back without being read');
      ports.watcher.forget(job.address);
      // The post did pay, whatever happens to it now: counted once, when the take-back is first
      // recorded (after the wallet check, so a refused wallet counts nothing).
      const first = !takenBack(ctx.object.status, job.address.toBase58());
      await sendEnding(ctx, ports, job, action, () => {
        if (first) countLanded(ctx, ports, job);
      });
      return false;
    }
    default:
      return false;
  }
}
