// The NosanaNode reconciler: level-based, one step per reconcile. It puts the drain finalizer on
// before anything can be spent, reads the world (world.ts), decides (decide.ts), performs the one
// action (act.ts), then writes the status once and records the decision's Events.
//
// The status counts each run's ending exactly once, which holds only if no status decided from an
// older copy is ever written: the cache can lag behind our own last write, and a settled ending seen
// with the old status would be counted again. So the status is written only at the version the
// decision read (replaceStatus); a cache behind makes the write a conflict, and the reconcile looks
// again once the cache caught up. A reconcile that finds the cache still at the version our own
// last write replaced stops before reading anything (OwnWrites): the watch event of that write
// queues the node again, and deciding from the older copy would only end in that conflict.
import type { Logger } from 'pino';
import { NOSANA_NODE_FINALIZER } from '../../api/annotations.ts';
import type { NosanaNodeObject, NosanaNodeStatus } from '../../api/crds/nosana-node.ts';
import { StaleObjectError, refOf } from '../../runtime/types.ts';
import type { MetadataChange, ObjectKey, ReconcileContext, ReconcileOutcome, Reconciler } from '../../runtime/types.ts';
import { OwnWrites } from '../../runtime/own-writes.ts';
import { ItemBackoff } from '../../runtime/work-queue.ts';
import type { NodeAgentDeps } from './agent-deps.ts';
import { act } from './act.ts';
import { decide } from './decide.ts';
import { lastErrorLine } from './decision.ts';
import type { NodeAction, NodeDecision, NodeSettings } from './decision.ts';
import { readNodeWorld } from './world.ts';

// The cache catches up within moments of our own write.
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

export class NosanaNodeReconciler implements Reconciler {
  readonly name = 'nosananode';
  readonly #deps: NodeAgentDeps;
  readonly #backoff = new ItemBackoff(RETRY_BACKOFF);
  readonly #ownWrites = new OwnWrites();

  constructor(deps: NodeAgentDeps) {
    this.#deps = deps;
  }

  async reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileOutcome | undefined> {
    const node = this.#deps.nodes.get(key);
    if (node === undefined) {
      this.#ownWrites.forget(key);
      return undefined;
    }
    if (this.#ownWrites.isBehind(node)) {
      // Its watch event queues the node again; the requeue covers a watch that is down.
      context.log.debug({ resourceVersion: node.metadata?.resourceVersion }, 'the cache has not shown our last write yet');
      return { requeueAfterMs: STALE_REQUEUE_MS };
    }
    const uid = node.metadata?.uid ?? '';
    const deleting = node.metadata?.deletionTimestamp !== undefined;
    const finalizers = node.metadata?.finalizers ?? [];
    try {
      if (!finalizers.includes(NOSANA_NODE_FINALIZER)) {
        if (deleting) return undefined; // drained already: nothing of it is left to look after
        // Nothing is spent before the finalizer is on: a deletion must drain the node first.
        await this.#patchMetadata(node, { addFinalizers: [NOSANA_NODE_FINALIZER] });
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
    // What it decided and why, in the words of its Ready condition (the status holds no key material).
    const ready = decision.status.conditions?.find((condition) => condition.type === 'Ready');
    log.debug({ phase: decision.status.phase, reason: ready?.reason, message: ready?.message }, 'decided');
    // Written first when the action needs the status to name what it acts on (a claimed run's
    // Pods start only once the status names the run, so a crash leaves nothing it does not name).
    const acted = decision.statusFirst === true ? await this.#writeFirst(node, decision.status) : node;
    let retry: string | undefined;
    try {
      const outcome = await act(deps, acted, read, decision, log);
      if (!outcome.done) retry = outcome.retry;
    } catch (error) {
      if (error instanceof StaleObjectError) throw error;
      return this.#failed(acted, uid, decision, error, log);
    }
    if (retry !== undefined) {
      // Nothing was sent: the record changed under the decision, or the store kept it. Decide again.
      log.info({ why: retry }, 'the action did not take; deciding again');
      return { requeueAfterMs: this.#backoff.next(uid) };
    }
    if (decision.action.kind === 'removeFinalizer') {
      await this.#patchMetadata(node, { removeFinalizers: [NOSANA_NODE_FINALIZER] });
      return {};
    }
    if (decision.statusFirst !== true) await this.#writeStatus(node, decision.status);
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
    await this.#writeStatus(node, { ...(node.status ?? {}), lastError: line });
    this.#deps.events.record(node, 'Warning', FAILURE_REASON[what], what, line);
    return { requeueAfterMs: this.#backoff.next(uid) };
  }

  /** Writes the status at the version the decision read; StaleObjectError when anyone wrote since. */
  async #writeStatus(node: NosanaNodeObject, status: NosanaNodeStatus): Promise<string | undefined> {
    const version = node.metadata?.resourceVersion ?? '';
    const written = await this.#deps.writer.replaceStatus(refOf(node), version, status, node.status ?? {});
    this.#ownWrites.wrote(node, version, written);
    return written;
  }

  /** Writes the decided status ahead of the action; the node as it now is on the server. */
  async #writeFirst(node: NosanaNodeObject, status: NosanaNodeStatus): Promise<NosanaNodeObject> {
    const written = await this.#writeStatus(node, status);
    return written === undefined ? node : { ...node, metadata: { ...node.metadata, resourceVersion: written }, status };
  }

  async #patchMetadata(node: NosanaNodeObject, change: MetadataChange): Promise<void> {
    const version = node.metadata?.resourceVersion ?? '';
    this.#ownWrites.wrote(node, version, await this.#deps.writer.patchMetadata(refOf(node), version, change));
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
