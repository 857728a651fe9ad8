// The vocabulary of NosanaNode decisions (decide.ts): what one reconcile of the node agent reads
// (the object, its key, the chain, the cluster's capacity, the run's record and the executor),
// what the agent's options say, the one action a decision may name, and the working copy a decider
// fills in, with the few helpers every part of the decision shares. No I/O.
import type { NosanaNodePhase, NosanaNodeSpec, NosanaNodeStatus } from '../../api/crds/nosana-node.ts';
import type { StakeAccount } from '../../chain/accounts.ts';
import type { Balances, JobView, MarketView, NodeTransactionResolution, RunView } from '../../chain/jobs-client.ts';
import { formatSol } from '../../chain/money.ts';
import type { NodeTransactionRecordOf } from '../../chain/node-transaction-record.ts';
import type { ClusterFailureCause } from '../../executor/decide-run.ts';
import type { FlowState, FlowStatus } from '../../executor/flow-state.ts';
import { redactSecrets } from '../../http/redact.ts';
import { isNoResult } from '../../ipfs/cid.ts';
import { setCondition, findCondition } from '../../runtime/conditions.ts';
import { isoSeconds } from '../../runtime/kube-time.ts';
import type { EventType } from '../../runtime/types.ts';
import { applyPhase } from '../phase.ts';
import type { CapacityVerdict } from './capacity.ts';
import type { LogisticsTarget } from './logistics.ts';

// ---------------------------------------------------------------------------------------------
// What is read

/** The NosanaNode as read from the cache. */
export interface NodeObject {
  spec: Pick<NosanaNodeSpec, 'market' | 'paused'>;
  status: NosanaNodeStatus;
  generation?: number;
  /** A deletion was asked for: the node drains like a paused one, then lets the object go. */
  deleting: boolean;
}

/**
 * The node's key: its address, or why the Secret cannot be used. `problem` names the Secret and
 * the key and says what is wrong; it never quotes anything read from the Secret.
 */
export type NodeKey = { address: string } | { problem: string };

/**
 * The chain as read for one decision, fresh (confirmed commitment).
 *
 * `run` is the run account this node holds (runs filtered by node). A run the status or the
 * record names that this read does not find is reported missing only once a finalized read agrees
 * (a lagging RPC node must not make the agent stop a paid job).
 *
 * `job` is the job of the run the agent deals with: the record's run first, else the held run,
 * else the status's currentRun; undefined when that job account does not exist (closed). It is
 * read with its open run, if any (JobView.run), which says whether a finish or quit can still take.
 * The decision checks its address before using it.
 */
export interface ChainSnapshot {
  /** The market served, or why there is none (not found, a NosanaMarket not resolved yet). */
  market: MarketView | { missing: string };
  balances: Balances;
  /** Whether the node's NOS token account exists, and its stake account when it has one. */
  accounts: { nosAccount: boolean; stake?: StakeAccount };
  /**
   * 'open': the market needs no access key. 'held': the node holds one of the market's collection.
   * 'missing': it holds none, or that cannot be checked (reading a node's NFTs is not built yet,
   * so every market that asks for an access key reads 'missing').
   */
  accessKey: 'open' | 'held' | 'missing';
  run?: RunView;
  job?: JobView;
}

/** What a node's ending does: paid work (finish), a result after the poster ended the job (complete), or giving it up unpaid (quit). */
export type EndingKind = 'finish' | 'complete' | 'quit';

/** A signed ending, as recorded before broadcast (node-transaction-record.ts); re-sending its bytes is always harmless. */
export type SignedEnding = NodeTransactionRecordOf<EndingKind>;

/** What the chain says of a recorded ending (node-transactions.ts resolves it), or that it could not be read now. */
export type EndingOutcome = NodeTransactionResolution | { outcome: 'unreadable'; error: string };

/** The result document, pinned: its CID and how the flow ended (for the counters). */
export interface PinnedResult {
  cid: string;
  flowStatus: FlowStatus;
}

/**
 * A signed ending in the run's record, with why it was chosen and what became of it. Signed by
 * this node's key: the record store refuses a record holding another's, and the decision stops on one.
 */
export interface RecordedEnding {
  signed: SignedEnding;
  outcome: EndingOutcome;
  /** Why this ending was chosen (a quit's cause), for the status and Events. */
  reason: string;
  /** How many signed versions of this ending before this one landed and failed. */
  failures: number;
}

/**
 * The run's record (kept in a ConfigMap that outlives the run's objects, so a restart finds it):
 * the pinned result, then the signed ending. A record with neither says nothing and is dropped.
 */
export interface RunRecord {
  jobAddress: string;
  runAddress: string;
  result?: PinnedResult;
  ending?: RecordedEnding;
}

/** Why the agent asked the executor to stop a run. */
export type StopWhy = 'job-ended' | 'run-lost';

/**
 * The executor's state for a run of this agent; it lives in memory, so after a restart it is idle
 * and a held run is run again from its start. A definition whose bytes verify but do not validate
 * is the job's own failure: it ends (`ended`) with a validation-error result. `start-failed` is a
 * definition that could not be fetched or verified (a gateway down): tried again until the deadline.
 */
export type ExecutorState =
  | { state: 'idle' }
  | { state: 'running'; jobAddress: string; runAddress: string; deadlineMs: number; stopping?: StopWhy }
  | {
      state: 'ended';
      jobAddress: string;
      runAddress: string;
      flow: FlowState;
      /**
       * Where the definition's logistics deliver the full result, and why that failed if it did
       * (the acting layer's concern: IPFS then gets a public copy). Delivered as the run ends.
       */
      receive?: LogisticsTarget;
      deliveryError?: string;
    }
  | { state: 'cluster-failure'; jobAddress: string; runAddress: string; opId: string; cause: ClusterFailureCause; message: string }
  | { state: 'too-large'; jobAddress: string; runAddress: string; gpusNeeded: number; gpusAvailable: number }
  | { state: 'start-failed'; jobAddress: string; runAddress: string; error: string; atMs: number };

/** Everything one reconcile of a NosanaNode reads. */
export interface NodeWorld {
  node: NodeObject;
  key: NodeKey;
  /** undefined: not read (no usable key). */
  chain?: ChainSnapshot | { readError: string };
  /** Whether the cluster can schedule one more job of this node now (capacity.ts). */
  capacity: CapacityVerdict;
  /**
   * Why the agent's containment refuses where or how this node's jobs would run (a job namespace
   * the administrator did not mark for jobs, limits above the agent's ceilings); undefined: allowed.
   */
  placementRefusal?: string;
  /** The fingerprint of where and how the node's jobs would run now (job-settings.ts); the node joins with it. */
  placement: string;
  /** undefined: no run record exists. */
  record?: RunRecord;
  executor: ExecutorState;
  /**
   * When a `work` that may not show in this read yet was sent (world.ts): a join that has not
   * shown is not sent again. Absent once the last one is confirmed and the read is as of its slot.
   */
  lastJoinAt?: Date;
}

/** The agent's options, already turned into numbers. */
export interface NodeSettings {
  now: Date;
  /** Below this many lamports the node does not join (a run's rent and fees need SOL). */
  lowBalanceLamports: bigint;
  /** How often a queued or running node looks at the chain. */
  pollIntervalMs: number;
  /** How often conditions that raise no Kubernetes event (stake, market, access key) are looked at again. */
  recheckMs: number;
  /** How long a sent `work` may take to show (a place in the queue or a run) before another is sent. */
  joinSettleMs: number;
  /** How long to wait before fetching a definition again after a failed fetch. */
  startRetryMs: number;
  /** After this many signed versions of one ending failed on chain, the agent stops and says so. */
  maxEndingFailures: number;
}

// ---------------------------------------------------------------------------------------------
// What is decided

export type NodeAction =
  | { kind: 'none' }
  /** Create the node's NOS token account and/or its stake account (amount 0). */
  | { kind: 'ensureAccounts'; nosAccount: boolean; stake: boolean }
  /** `work` on the market: join its queue, or take the first job waiting. */
  | { kind: 'joinQueue'; market: string }
  /** `stop` on the market: leave its queue. */
  | { kind: 'leaveQueue'; market: string }
  /** Fetch the definition (verified against its CID), plan it and run it with the executor. */
  | { kind: 'startRun'; jobAddress: string; runAddress: string; deadlineMs: number }
  /** The job's timeout grew: the executor's deadline moves. */
  | { kind: 'moveDeadline'; runAddress: string; deadlineMs: number }
  /** Stop the run's Pods; the executor then ends the flow with the ops stopped. */
  | { kind: 'stopRun'; runAddress: string; why: StopWhy }
  /** Pin the flow's result document and write its CID to the run's record. */
  | { kind: 'pinResult'; jobAddress: string; runAddress: string; flow: FlowState }
  /**
   * Sign the ending and write it, with `reason` and `failures`, to the run's record; it is
   * broadcast by a later decision. A recorded ending it replaces can no longer land.
   */
  | { kind: 'prepare'; ending: EndingKind; jobAddress: string; runAddress: string; resultCid?: string; reason: string; failures: number }
  /** Send the recorded bytes (again). */
  | { kind: 'broadcast'; signed: SignedEnding }
  /** The recorded ending can no longer land and its work is still to do: sign the same ending again, replacing it in the record. */
  | { kind: 'resign'; signed: SignedEnding; reason: string; failures: number }
  /** The run is over for this node: drop its record, whatever of it is left in the cluster and the executor's state. */
  | { kind: 'releaseRun'; runAddress: string }
  /** The node has drained (no run, out of the queue): remove NOSANA_NODE_FINALIZER (api/annotations.ts) so the object can go. */
  | { kind: 'removeFinalizer' };

export interface NodeEvent {
  type: EventType;
  reason: string;
  note: string;
}

export interface NodeDecision {
  status: NosanaNodeStatus;
  action: NodeAction;
  /** Look again after this long; undefined: nothing will change without an event. */
  requeueAfterMs?: number;
  /** Look again after the object's growing backoff delay (the world may fix itself). */
  backoff?: true;
  /** Write the status before the action, not after: the action needs it to name what it acts on. */
  statusFirst?: true;
  events: NodeEvent[];
}

// After a step that changes what the next decision sees, the next one comes at once.
export const NEXT_STEP_MS = 500;
// A broadcast ending lands within a few slots.
export const ENDING_POLL_MS = 2_000;

// ---------------------------------------------------------------------------------------------
// Conditions beside the phase: each names one thing that keeps the node from serving

/** Condition types that are True while the problem holds; each has its reasons for True and False. */
export const NODE_PROBLEMS = {
  KeyUnavailable: { holds: 'KeyUnavailable', cleared: 'KeyLoaded' },
  ChainUnreadable: { holds: 'RpcUnavailable', cleared: 'RpcAvailable' },
  MarketUnavailable: { holds: 'MarketUnavailable', cleared: 'MarketFound' },
  LowBalance: { holds: 'BalanceLow', cleared: 'BalanceSufficient' },
  StakeBelowMinimum: { holds: 'StakeBelowMinimum', cleared: 'StakeSufficient' },
  AccessKeyRequired: { holds: 'AccessKeyMissing', cleared: 'AccessKeyHeld' },
  NoCapacity: { holds: 'NoCapacity', cleared: 'CapacityAvailable' },
  PlacementRefused: { holds: 'PlacementRefused', cleared: 'PlacementAllowed' },
} as const;

export type NodeProblem = keyof typeof NODE_PROBLEMS;

/**
 * The Ready reasons of phase Error (api/health.ts): what stops the node until someone changes
 * something (a Secret, the market, a stake) or, for EndingFailed, looks at the run's record.
 */
export type NodeStall =
  'KeyUnavailable' | 'MarketUnavailable' | 'StakeBelowMinimum' | 'AccessKeyRequired' | 'PlacementRefused' | 'EndingFailed';

// lastError is a line to read in `kubectl describe`, not a log: long enough for an RPC or a
// program error, well inside the schema's bound.
const LAST_ERROR_MAX_CHARS = 300;

/** `message` as status.lastError holds it: one line, credentials in quoted URLs redacted, cut short. */
export function lastErrorLine(message: string): string {
  const line = redactSecrets(message).replace(/\s+/g, ' ').trim();
  return line.length > LAST_ERROR_MAX_CHARS ? `${line.slice(0, LAST_ERROR_MAX_CHARS - 1)}…` : line;
}

/** The working state of one decision: a copy of the status and what the decision adds to it. */
export class NodeDraft {
  status: NosanaNodeStatus;
  readonly events: NodeEvent[] = [];
  readonly #generation: number | undefined;
  readonly #now: Date;

  constructor(status: NosanaNodeStatus, generation: number | undefined, now: Date) {
    // A copy: the decision never changes what it was given.
    this.status = structuredClone(status);
    this.#generation = generation;
    this.#now = now;
  }

  setPhase(phase: NosanaNodePhase, reason: string, message: string): void {
    this.status = applyPhase('NosanaNode', this.status, phase, reason, message, this.#generation, this.#now);
  }

  /** Phase Error with one of its reasons: the node stops until someone changes something. */
  stall(reason: NodeStall, message: string): void {
    this.setPhase('Error', reason, message);
  }

  /**
   * Records `message` as the last error the node met: one line, credentials in quoted URLs
   * redacted, cut short. Messages never quote a key Secret's content to begin with.
   */
  error(message: string): void {
    this.status.lastError = lastErrorLine(message);
  }

  event(type: EventType, reason: string, note: string): void {
    this.events.push({ type, reason, note });
  }

  /**
   * Reports `problem` as holding (a message) or not (undefined). A condition that never held is
   * not added; one that starts to hold is announced with a Warning Event, once. `reason` names a
   * finer cause than the problem's own reason, when there is one.
   */
  problem(problem: NodeProblem, message: string | undefined, reason?: string): void {
    const reasons = NODE_PROBLEMS[problem];
    const current = findCondition(this.status.conditions, problem);
    if (message === undefined) {
      if (current === undefined || current.status === 'False') return;
      this.#condition(problem, 'False', reasons.cleared, '');
      return;
    }
    const holds = reason ?? reasons.holds;
    if (current?.status !== 'True') this.event('Warning', holds, message);
    this.#condition(problem, 'True', holds, message);
  }

  #condition(type: string, status: 'True' | 'False', reason: string, message: string): void {
    this.status = {
      ...this.status,
      conditions: setCondition(this.status.conditions, { type, status, reason, message }, this.#generation, this.#now),
    };
  }

  decided(action: NodeAction, requeue: { afterMs?: number; backoff?: true } = {}): NodeDecision {
    return {
      status: this.status,
      action,
      ...(requeue.afterMs === undefined ? {} : { requeueAfterMs: requeue.afterMs }),
      ...(requeue.backoff === undefined ? {} : { backoff: true }),
      events: this.events,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// What every part of the decision shares

/** One decision's inputs once the key and the chain are known to be usable. */
export interface NodeContext {
  draft: NodeDraft;
  world: NodeWorld;
  chain: ChainSnapshot;
  /** The node's address. */
  address: string;
  settings: NodeSettings;
  /** Why the node takes no new job, if it does not: spec.paused or a deletion. */
  draining?: 'paused' | 'deleting';
}

/** The job the snapshot holds, when it is `address`'s. */
export function jobOf(chain: ChainSnapshot, address: string | undefined): JobView | undefined {
  return address !== undefined && chain.job?.address.toBase58() === address ? chain.job : undefined;
}

/** The run held on chain, when it is `address`. */
export function heldRun(chain: ChainSnapshot, address: string | undefined): RunView | undefined {
  return address !== undefined && chain.run?.address.toBase58() === address ? chain.run : undefined;
}

/** When the run must end: its start plus the job's timeout (an extended job's moves later). */
export function deadlineOf(run: RunView, job: JobView): number {
  return Number(run.account.time + job.account.timeout) * 1000;
}

/** The poster ended the job with `end` while it ran: done, and no result yet (the node may `complete`). */
export function endedByPoster(job: JobView | undefined): boolean {
  return job !== undefined && job.status === 'COMPLETED' && isNoResult(job.account.ipfsResult);
}

/**
 * The Ready message while a run's result is delivered: the same from the pin through the signing
 * and sending to the landing, so those steps cost no status write each (the steps are in the
 * agent's debug log; a step that goes wrong says so in lastError and an Event).
 */
export function deliveringMessage(jobAddress: string, flowStatus: string | undefined): string {
  return `job ${jobAddress} ended (flow ${flowStatus ?? '?'}); delivering its result on chain`;
}

/** The Ready message of a run that is quit, the same from its signing to its landing. */
export function quittingMessage(jobAddress: string, reason: string): string {
  return `quitting job ${jobAddress}: ${reason}`;
}

/** Shows a node busy with a run: Running, or Draining when it takes no new job afterwards. */
export function showBusy(ctx: NodeContext, message: string): void {
  if (ctx.draining === undefined) ctx.draft.setPhase('Running', 'Running', message);
  else ctx.draft.setPhase('Draining', 'Draining', `${message}; ${drainingNote(ctx.draining)}`);
}

/** Shows a node with no run: Paused when it takes no job, else about to join. */
export function showIdle(ctx: Pick<NodeContext, 'draft' | 'draining'>, message: string): void {
  if (ctx.draining === undefined) ctx.draft.setPhase('Idle', 'Joining', message);
  else ctx.draft.setPhase('Idle', 'Paused', `${drainingNote(ctx.draining)}; ${message}`);
}

function drainingNote(draining: 'paused' | 'deleting'): string {
  return draining === 'paused' ? 'spec.paused: no new job is taken' : 'being deleted: no new job is taken';
}

/**
 * The status names the run (and its job): before anything is signed for it, so that its ending is
 * counted when it settles. `held` is the run account when the chain still holds it: startedAt is
 * the start the chain recorded in it (run.time), never a local clock. Without it, startedAt is
 * kept only when it is this run's.
 */
export function nameRun(draft: NodeDraft, runAddress: string, jobAddress: string, held?: RunView): void {
  if (held !== undefined) draft.status.startedAt = isoSeconds(new Date(Number(held.account.time) * 1000));
  else if (draft.status.currentRun !== runAddress) delete draft.status.startedAt;
  draft.status.currentRun = runAddress;
  draft.status.currentJob = jobAddress;
}

/** The run is no longer this node's business: the status stops naming it. */
export function forgetRun(draft: NodeDraft, runAddress: string): void {
  if (draft.status.currentRun !== runAddress) return;
  delete draft.status.currentRun;
  delete draft.status.currentJob;
  delete draft.status.startedAt;
}

/** Why the node's SOL keeps it from taking a job, or undefined when it has enough. */
export function lowBalanceNote(address: string, lamports: bigint, thresholdLamports: bigint): string | undefined {
  if (lamports >= thresholdLamports) return undefined;
  return `node ${address} holds ${formatSol(lamports)} SOL, below the ${formatSol(thresholdLamports)} SOL it needs to take a job (run rent and fees); send it SOL`;
}
