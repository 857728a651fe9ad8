// The NosanaJob reconciler: level-based, one step of convergence per reconcile. It reads the
// object from the cache and, in this order, puts back a create-once record whose annotations were
// lost (lost-record.ts), handles deletion (finalizer), makes sure the finalizer is on before
// anything is spent, settles a post in flight, mirrors the job it posted or adopted, or else runs
// the posting path. The status is a working copy applied once at the end (nothing is
// written when nothing changed). A write that lost a race (StaleObjectError) means the cache is
// behind: the reconcile ends without applying what it computed from the stale copy, and looks
// again soon.
import { PublicKey } from '@solana/web3.js';
import { CONFIRM_POST_ANNOTATION, JOB_ADDRESS_ANNOTATION, NOSANA_JOB_FINALIZER, PENDING_POST_ANNOTATION } from '../../api/annotations.ts';
import { healthRow } from '../../api/health.ts';
import { findCondition } from '../../runtime/conditions.ts';
import { killPoint } from '../../runtime/kill-points.ts';
import { StaleObjectError } from '../../runtime/types.ts';
import { ItemBackoff } from '../../runtime/work-queue.ts';
import type { ObjectKey, ReconcileContext, ReconcileOutcome, Reconciler } from '../../runtime/types.ts';
import { buildJobContext } from './context.ts';
import type { JobReconcileContext, NosanaJobControllerDeps, StepOutcome } from './context.ts';
import { finalizeJob } from './finalize.ts';
import { lostAnnotations } from './lost-record.ts';
import { followJob } from './follow.ts';
import { resolvePendingPost } from './pending-post.ts';
import { postJob } from './post.ts';
import { jobAddressOrigin } from './record-trust.ts';
import type { JobOrigin } from './record-trust.ts';
import type { PostingState } from './post.ts';
import { takenBackForPrice } from './price-guard.ts';
import { REFUSAL_BACKOFF } from './refusal.ts';

// The cache catches up within moments of our own write; there is nothing to wait for beyond that.
const STALE_REQUEUE_MS = 500;

interface StepResult extends StepOutcome {
  /** The finalizer was removed: the object is gone, there is no status to write. */
  gone?: boolean;
  /** A post landed in this reconcile (the crash tests' last kill point follows it). */
  landed?: boolean;
}

function annotation(ctx: JobReconcileContext, name: string): string | undefined {
  return ctx.object.metadata?.annotations?.[name];
}

/** Nothing more will happen to the job (its phase-table row is terminal). */
function isTerminal(ctx: JobReconcileContext): boolean {
  const reason = findCondition(ctx.status.conditions, 'Ready')?.reason;
  return reason !== undefined && healthRow('NosanaJob', ctx.status.phase, reason)?.terminal === true;
}

export class NosanaJobReconciler implements Reconciler {
  readonly name = 'nosanajob';
  readonly #deps: NosanaJobControllerDeps;
  readonly #posting: PostingState = { backoff: new ItemBackoff(REFUSAL_BACKOFF) };

  constructor(deps: NosanaJobControllerDeps) {
    this.#deps = deps;
    deps.metrics.setPendingPostsSource(
      () => deps.jobs.list().filter((job) => job.metadata?.annotations?.[PENDING_POST_ANNOTATION] !== undefined).length,
    );
  }

  async reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileOutcome | undefined> {
    const object = this.#deps.jobs.get(key);
    if (object === undefined) return undefined;
    const address = object.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION] ?? object.spec.jobAddress;
    const ctx = buildJobContext(this.#deps, object, context, address);
    try {
      const result = await this.#step(ctx);
      if (!result.gone) {
        if (result.landed === true) killPoint('post:before-status');
        await ctx.writeStatus();
      }
      return result.requeueAfterMs === undefined ? {} : { requeueAfterMs: result.requeueAfterMs };
    } catch (error) {
      if (!(error instanceof StaleObjectError)) throw error;
      context.log.debug({ err: error }, 'the cached object was stale; looking again');
      return { requeueAfterMs: STALE_REQUEUE_MS };
    }
  }

  async #step(ctx: JobReconcileContext): Promise<StepResult> {
    const { metadata, spec } = ctx.object;
    const hasFinalizer = (metadata?.finalizers ?? []).includes(NOSANA_JOB_FINALIZER);
    const deleting = metadata?.deletionTimestamp !== undefined;
    if (deleting && !hasFinalizer) return { gone: true };
    // Deletion included: a job whose record lost its annotations would be posted again, or leaked.
    const lost = lostAnnotations(ctx.object);
    if (lost !== undefined) return this.#restore(ctx, lost);
    if (deleting) return this.#delete(ctx);
    if (!hasFinalizer) {
      await ctx.patchMetadata({ addFinalizers: [NOSANA_JOB_FINALIZER] });
    }
    // A post in flight comes first, even before adoption: it may hold a paid job.
    const pending = annotation(ctx, PENDING_POST_ANNOTATION);
    let landed: PublicKey | undefined;
    if (pending !== undefined) {
      const resolution = await resolvePendingPost(ctx, this.#posting, pending);
      if (resolution.kind !== 'landed') return resolution.outcome;
      landed = resolution.jobAddress;
    } else {
      // A post settled by a process that died before its status write is still shown as in flight.
      delete ctx.status.pendingPost;
      if (annotation(ctx, CONFIRM_POST_ANNOTATION) !== undefined) {
        // A confirmation with no post to settle would otherwise wait and settle the NEXT unknown post.
        await ctx.patchMetadata({ annotations: { [CONFIRM_POST_ANNOTATION]: null } });
      }
    }
    if (spec.jobAddress !== undefined) return this.#observe(ctx, new PublicKey(spec.jobAddress), 'adopted');
    if (landed !== undefined) return { ...(await this.#observe(ctx, landed, 'posted')), landed: true };
    const posted = annotation(ctx, JOB_ADDRESS_ANNOTATION);
    // Until it can be told whether this object posted it, the job is only mirrored.
    if (posted !== undefined) return this.#observe(ctx, new PublicKey(posted), (await jobAddressOrigin(ctx, posted)) ?? 'unverified');
    return postJob(ctx, this.#posting);
  }

  async #observe(ctx: JobReconcileContext, jobAddress: PublicKey, origin: 'posted' | 'adopted' | 'unverified'): Promise<StepResult> {
    if (isTerminal(ctx)) {
      // Say the current spec was seen (kstatus reads an old observedGeneration as in progress).
      const generation = ctx.object.metadata?.generation;
      if (generation !== undefined) ctx.status.observedGeneration = generation;
      return {};
    }
    if (origin === 'posted') {
      const takenBack = await takenBackForPrice(ctx, jobAddress);
      if (takenBack !== undefined) return takenBack;
    }
    const outcome = await followJob(ctx, jobAddress, origin);
    if (outcome.repost !== true) return outcome;
    // The attempt is over and retries remain: without the job-address annotation the next
    // reconcile takes the posting path and posts a fresh job.
    await ctx.patchMetadata({ annotations: { [JOB_ADDRESS_ANNOTATION]: null } });
    return { requeueAfterMs: STALE_REQUEUE_MS };
  }

  /** Puts back the annotations the status shows were lost; the next reconcile settles them as usual. */
  async #restore(ctx: JobReconcileContext, lost: Record<string, string>): Promise<StepResult> {
    await ctx.patchMetadata({ annotations: lost });
    ctx.event(
      'Warning',
      'RecordRestored',
      `the annotations ${Object.keys(lost).join(' and ')} were removed but the status still records them; ` +
        `they were restored so that job ${ctx.status.pendingPost?.jobAddress ?? ctx.status.jobAddress ?? ''} is followed, not posted again`,
    );
    return { requeueAfterMs: STALE_REQUEUE_MS };
  }

  /** Cancels the job on chain (per deletionPolicy), then lets the object go. */
  async #delete(ctx: JobReconcileContext): Promise<StepResult> {
    const { spec } = ctx.object;
    // spec.jobAddress names an adopted job, whatever an annotation says; an annotated address is
    // acted on only when it is this object's own (record-trust.ts): an allow-list, not a deny-list.
    let address = spec.jobAddress ?? annotation(ctx, JOB_ADDRESS_ANNOTATION);
    let origin: JobOrigin | undefined = spec.jobAddress === undefined ? 'posted' : 'adopted';
    const pending = annotation(ctx, PENDING_POST_ANNOTATION);
    // Orphan leaves the chain alone, a post in flight included; Cancel must know whether it landed.
    if (spec.deletionPolicy !== 'Orphan') {
      if (pending !== undefined) {
        const resolution = await resolvePendingPost(ctx, this.#posting, pending);
        if (resolution.kind === 'waiting') return resolution.outcome;
        if (resolution.kind === 'landed' && spec.jobAddress === undefined) address = resolution.jobAddress.toBase58();
      }
      if (origin === 'posted' && address !== undefined) origin = await jobAddressOrigin(ctx, address);
    }
    const finalized = await finalizeJob(ctx, address === undefined ? undefined : new PublicKey(address), origin);
    if (!finalized.done) return finalized.requeueAfterMs === undefined ? {} : { requeueAfterMs: finalized.requeueAfterMs };
    await ctx.patchMetadata({ removeFinalizers: [NOSANA_JOB_FINALIZER] });
    return { gone: true };
  }
}
