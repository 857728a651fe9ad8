// The NosanaNode reconciler: level-based, one step per reconcile. It puts the drain finalizer on
// before anything can be spent, reads the world (world.ts), decides (decide.ts), performs the one
// action (act.ts), then writes the status once and records the decision's Events.
//
// The status counts each run's ending exactly once, which holds only if a reconcile never decides
// from a status older than the one the last reconcile wrote: the cache can lag behind our own
// write, and a settled ending seen with the old status would be counted again. So the status each
// write sends is remembered per object until the cache shows it (or, for a status someone else
// changed meanwhile, until a bound passes), and a reconcile that finds the cache behind waits.
import type { Logger } from 'pino';
import { NOSANA_NODE_FINALIZER } from '../../api/annotations.ts';
import type { NosanaNodeObject, NosanaNodeStatus } from '../../api/crds/nosana-node.ts';
import { canonicalJson } from '../../runtime/kube-writer.ts';
import { StaleObjectError, refOf } from '../../runtime/types.ts';
import type { ObjectKey, ReconcileContext, ReconcileOutcome, Reconciler } from '../../runtime/types.ts';
import { ItemBackoff } from '../../runtime/work-queue.ts';
import type { NodeAgentDeps } from './agent-deps.ts';
import { act } from './act.ts';
import { decide } from './decide.ts';
import { lastErrorLine } from './decision.ts';
import type { NodeAction, NodeDecision, NodeSettings } from './decision.ts';
import { readNodeWorld } from './world.ts';

// The cache catches up within moments of our own write.
const CACHE_BEHIND_REQUEUE_MS = 250;
// A status the cache never shows was replaced by someone else's write: stop waiting for it.
const EXPECTATION_TTL_MS = 15_000;
const STALE_REQUEUE_MS = 500;
const RETRY_BACKOFF = { baseMs: 1_000, maxMs: 60_000 };

/** The Warning reason of an action that failed, for Events. */
const FAILURE_REASON: Readonly<Record<NodeAction['kind'], string>> = {
  none: 'ReconcileFailed',
  ensureAccounts: 'AccountsFailed',
  joinQueue: 'JoinFailed',
  leaveQueue: 'LeaveFailed',
  startRun: 'StartFailed',
  moveDeadline: 'ReconcileFailed',
  stopRun: 'ReconcileFailed',
  pinResult: 'PinFailed',
  prepare: 'SignFailed',
  broadcast: 'SendFailed',
  resign: 'SignFailed',
  releaseRun: 'ReleaseFailed',
  removeFinalizer: 'ReconcileFailed',
};

interface Expectation {
  status: string;
  atMs: number;
}

export class NosanaNodeReconciler implements Reconciler {
  readonly name = 'nosananode';
  readonly #deps: NodeAgentDeps;
  readonly #backoff = new ItemBackoff(RETRY_BACKOFF);
  /** The status last written per object uid, until the cache shows it. */
  readonly #expected = new Map<string, Expectation>();

  constructor(deps: NodeAgentDeps) {
    this.#deps = deps;
  }

  async reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileOutcome | undefined> {
    const node = this.#deps.nodes.get(key);
    if (node === undefined) return undefined;
    const uid = node.metadata?.uid ?? '';
    if (this.#cacheBehind(uid, node.status)) return { requeueAfterMs: CACHE_BEHIND_REQUEUE_MS };
    const deleting = node.metadata?.deletionTimestamp !== undefined;
    const finalizers = node.metadata?.finalizers ?? [];
    try {
      if (!finalizers.includes(NOSANA_NODE_FINALIZER)) {
        if (deleting) return undefined; // drained already: nothing of it is left to look after
        // Nothing is spent before the finalizer is on: a deletion must drain the node first.
        await this.#deps.writer.patchMetadata(refOf(node), node.metadata?.resourceVersion ?? '', {
          addFinalizers: [NOSANA_NODE_FINALIZER],
        });
        return {};
      }
      return await this.#step(node, uid, context);
    } catch (error) {
      if (!(error instanceof StaleObjectError)) throw error;
      context.log.debug({ err: error }, 'the cached object was stale; looking again');
      return { requeueAfterMs: STALE_REQUEUE_MS };
    }
  }

  async #step(node: NosanaNodeObject, uid: string, context: ReconcileContext): Promise<ReconcileOutcome> {
    const deps = this.#deps;
    const read = await readNodeWorld(deps, node);
    const decision = decide(read.world, this.#settings());
    const log = context.log.child({ action: decision.action.kind });
    let retry: string | undefined;
    try {
      const outcome = await act(deps, node, read, decision, log);
      if (!outcome.done) retry = outcome.retry;
    } catch (error) {
      if (error instanceof StaleObjectError) throw error;
      return this.#failed(node, uid, decision, error, log);
    }
    if (retry !== undefined) {
      // Nothing was sent: the record changed under the decision, or the store kept it. Decide again.
      log.info({ why: retry }, 'the action did not take; deciding again');
      return { requeueAfterMs: this.#backoff.next(uid) };
    }
    if (decision.action.kind === 'removeFinalizer') {
      this.#expected.delete(uid);
      await deps.writer.patchMetadata(refOf(node), node.metadata?.resourceVersion ?? '', { removeFinalizers: [NOSANA_NODE_FINALIZER] });
      return {};
    }
    await this.#writeStatus(node, uid, decision.status);
    for (const event of decision.events) deps.events.record(node, event.type, event.reason, decision.action.kind, event.note);
    if (decision.backoff === true) return { requeueAfterMs: this.#backoff.next(uid) };
    this.#backoff.reset(uid);
    return decision.requeueAfterMs === undefined ? {} : { requeueAfterMs: decision.requeueAfterMs };
  }

  /** The action threw: nothing the decision announced happened. The status says what failed; the node tries again later. */
  async #failed(node: NosanaNodeObject, uid: string, decision: NodeDecision, error: unknown, log: Logger): Promise<ReconcileOutcome> {
    const what = decision.action.kind;
    const line = lastErrorLine(`${what} failed: ${error instanceof Error ? error.message : String(error)}`);
    log.warn({ err: error }, `${what} failed`);
    // The status as it was, with the error: the decision's status assumed the action happened.
    await this.#writeStatus(node, uid, { ...(node.status ?? {}), lastError: line });
    this.#deps.events.record(node, 'Warning', FAILURE_REASON[what], what, line);
    return { requeueAfterMs: this.#backoff.next(uid) };
  }

  async #writeStatus(node: NosanaNodeObject, uid: string, status: NosanaNodeStatus): Promise<void> {
    const written = await this.#deps.writer.applyStatus(refOf(node), status, node.status ?? {});
    if (written !== undefined) this.#expected.set(uid, { status: canonicalJson(status), atMs: Date.now() });
  }

  /** Whether the cache still holds a status older than the one this agent last wrote for the object. */
  #cacheBehind(uid: string, status: NosanaNodeStatus | undefined): boolean {
    const expected = this.#expected.get(uid);
    if (expected === undefined) return false;
    if (canonicalJson(status ?? {}) === expected.status || Date.now() - expected.atMs > EXPECTATION_TTL_MS) {
      this.#expected.delete(uid);
      return false;
    }
    return true;
  }

  #settings(): NodeSettings {
    const { timings } = this.#deps;
    return {
      now: this.#deps.now(),
      lowBalanceLamports: timings.lowBalanceLamports,
      pollIntervalMs: timings.pollIntervalMs,
      recheckMs: timings.recheckMs,
      joinSettleMs: timings.joinSettleMs,
      startRetryMs: timings.startRetryMs,
      maxEndingFailures: timings.maxEndingFailures,
    };
  }
}
