// The NosanaJob reconciler: level-based, one step of convergence per reconcile. It reads the
// object from the cache, tells its stage from the object alone (decide.ts's stageOf), and hands it
// to that stage's layer, which reads what the stage depends on, decides (decide.ts) and performs
// at most one action: post.ts, settle.ts, follow.ts, finalize.ts. The status is a working copy
// applied once at the end (nothing is written when nothing changed). A write that lost a race
// (StaleObjectError) means the cache is behind: the reconcile ends without applying what it
// computed from the stale copy, and looks again soon.
import { PublicKey } from '@solana/web3.js';
import { CONFIRM_POST_ANNOTATION, JOB_ADDRESS_ANNOTATION, NOSANA_JOB_FINALIZER, PENDING_POST_ANNOTATION } from '../../api/annotations.ts';
import { killPoint } from '../../runtime/kill-points.ts';
import { keyString, StaleObjectError } from '../../runtime/types.ts';
import { ItemBackoff } from '../../runtime/work-queue.ts';
import type { ObjectKey, ReconcileContext, ReconcileOutcome, Reconciler } from '../../runtime/types.ts';
import { buildJobContext } from './context.ts';
import type { JobReconcileContext, NosanaJobControllerDeps, StepOutcome } from './context.ts';
import { decide, stageOf } from './decide.ts';
import { deleteJob } from './finalize.ts';
import { followJob } from './follow.ts';
import { postJob } from './post.ts';
import { jobAddressOrigin } from './record-trust.ts';
import { REFUSAL_BACKOFF } from './refusal.ts';
import { settlePost } from './settle.ts';
import { decisionSettings } from './act.ts';

// The cache catches up within moments of our own write; there is nothing to wait for beyond that.
const STALE_REQUEUE_MS = 500;

interface StepResult extends StepOutcome {
  /** The finalizer was removed: the object is gone, there is no status to write. */
  gone?: boolean;
  /** A post landed in this reconcile (the crash tests' last kill point follows it). */
  landed?: boolean;
}

export class NosanaJobReconciler implements Reconciler {
  readonly name = 'nosanajob';
  readonly #deps: NosanaJobControllerDeps;
  /** Per-object retry delays for what may fix itself (refusals, unreadable outcomes). */
  readonly #backoff = new ItemBackoff(REFUSAL_BACKOFF);

  constructor(deps: NosanaJobControllerDeps) {
    this.#deps = deps;
    deps.metrics.setPendingPostsSource(
      () => deps.jobs.list().filter((job) => job.metadata?.annotations?.[PENDING_POST_ANNOTATION] !== undefined).length,
    );
  }

  async reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileOutcome | undefined> {
    const object = this.#deps.jobs.get(key);
    if (object === undefined) {
      // gone: a new object of the same name starts with no failures, and the count is not kept forever
      this.#backoff.reset(keyString(key));
      return undefined;
    }
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
    const annotations = metadata?.annotations ?? {};
    const address = spec.jobAddress ?? annotations[JOB_ADDRESS_ANNOTATION];
    const stage = stageOf(ctx.object, address);
    const backoff = this.#backoff;
    switch (stage.kind) {
      case 'gone':
        return { gone: true };
      case 'restore':
        return this.#restore(ctx, stage.annotations);
      case 'delete':
        return deleteJob(ctx, backoff);
      default:
        break;
    }
    // Nothing is spent before the finalizer is on: a deletion must find the job to cancel it. A
    // post puts it on with its record, in the same write (post.ts), so an object that is refused
    // or deleted before it posts never holds one.
    if (stage.kind !== 'post' && !(metadata?.finalizers ?? []).includes(NOSANA_JOB_FINALIZER))
      await ctx.patchMetadata({ addFinalizers: [NOSANA_JOB_FINALIZER] });
    if (stage.kind === 'settle') return settlePost(ctx, backoff, stage.record);
    // A post settled by a process that died before its status write is still shown as in flight.
    delete ctx.status.pendingPost;
    // A confirmation with no post to settle would otherwise wait and settle the NEXT unknown post.
    if (annotations[CONFIRM_POST_ANNOTATION] !== undefined) await ctx.patchMetadata({ annotations: { [CONFIRM_POST_ANNOTATION]: null } });
    switch (stage.kind) {
      case 'ended':
        ctx.status = decide(ctx.status, { stage: 'ended' }, decisionSettings(ctx, undefined)).status;
        return {};
      case 'follow': {
        if (address === undefined) throw new Error('a job is followed without an address');
        if (spec.jobAddress !== undefined) return followJob(ctx, backoff, new PublicKey(address), 'adopted');
        // Until it can be told whether this object posted it, the job is only mirrored.
        const origin = (await jobAddressOrigin(ctx, address)) ?? 'unverified';
        return followJob(ctx, backoff, new PublicKey(address), origin);
      }
      case 'post':
        return postJob(ctx, backoff);
    }
  }

  /** Puts back the annotations the status shows were lost; the next reconcile settles them as usual. */
  async #restore(ctx: JobReconcileContext, lost: Record<string, string>): Promise<StepResult> {
    // whatever stripped the annotations may have stripped the finalizer too: it goes back in the
    // same write, so a deletion right after still cancels the job (a deleting object keeps its own)
    const deleting = ctx.object.metadata?.deletionTimestamp !== undefined;
    await ctx.patchMetadata({ annotations: lost, ...(deleting ? {} : { addFinalizers: [NOSANA_JOB_FINALIZER] }) });
    ctx.event(
      'Warning',
      'RecordRestored',
      `the annotations ${Object.keys(lost).join(' and ')} were removed but the status still records them; ` +
        `they were restored so that job ${ctx.status.pendingPost?.jobAddress ?? ctx.status.jobAddress ?? ''} is followed, not posted again`,
    );
    return { requeueAfterMs: STALE_REQUEUE_MS };
  }
}
