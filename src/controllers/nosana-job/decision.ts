// The vocabulary of NosanaJob decisions (decide.ts): what is read for one (a world per stage),
// what the spec and the controller's settings say, the one action a decision may name, and the
// working copy a decider fills in. Types and a small helper class; no I/O.
import { PENDING_POST_ANNOTATION } from '../../api/annotations.ts';
import type { NosanaJobPhase, NosanaJobStatus } from '../../api/crds/nosana-job.ts';
import type { NetworkName } from '../../chain/addresses.ts';
import type { JobDefinition } from '../../api/job-definition/index.ts';
import type { Balances, JobView, MarketView, PendingPost, PendingPostOutcome } from '../../chain/jobs-client.ts';
import type { EventType } from '../../runtime/types.ts';
import { applyPhase } from '../phase.ts';
import type { BoundJob } from './binding.ts';
import { isNewPhase, withAttempt, withAttemptChange } from './job-status.ts';
import type { Attempt } from './job-status.ts';
import type { Refusal } from './refusal.ts';
import type { OpOutcome, ResultDocument } from './result.ts';
import type { Spend } from './spend-ledger.ts';

/**
 * 'posted': this resource paid for the job and may act on it; 'adopted': mirrored only;
 * 'unverified': mirrored only, and nothing is concluded until it is known whose it is.
 */
export type FollowOrigin = 'posted' | 'adopted' | 'unverified';

/** A job that exists (or existed) on chain, as read for one decision (job-world.ts). */
export interface FollowWorld {
  stage: 'follow';
  address: string;
  origin: FollowOrigin;
  /** undefined: the account was not found. */
  job?: JobView;
  /** Read only when the job was not found: whether a finalized read agrees. */
  goneAtFinality?: boolean;
  /** QUEUED: the job's place in its market's queue, when found. */
  queuePosition?: number;
  /** RUNNING: the exposed services, worked out when a run starts (undefined: not read this time). */
  services?: { reason: 'Running' | 'ServiceRunning'; message: string; urls?: NonNullable<NosanaJobStatus['serviceUrls']> };
  /** COMPLETED with a result: the document, or why it could not be read. */
  result?: { document: ResultDocument } | { error: string; permanent: boolean };
}

/**
 * What a post depends on, read in order; reading stops at the first thing that cannot be read
 * (a later read needs it), and the decision refuses with it (post.ts).
 */
export interface PostWorld {
  stage: 'post';
  definition: { raw: unknown; definition: JobDefinition } | Refusal;
  /** The market and its account, fresh; a refusal when it cannot be resolved or read. */
  market?: { address: string; view: MarketView; network: NetworkName } | Refusal;
  /** The paying wallet's address, or why it cannot be used. */
  wallet?: string | Refusal;
  /** Searched only when the status has no attempt: a job this object posted before it was recreated. */
  found?: BoundJob;
  balances?: Balances;
  /** The market's dailySpendLimit and its ledger, when one applies; an error when the ledger cannot be read. */
  daily?: { limit: bigint; spends: readonly Spend[] } | { error: string };
}

/** A post in flight (the pending-post annotation), as read for one decision (settle.ts). */
export interface SettleWorld {
  stage: 'settle';
  /** The chain the post was sent to (its fee rules price the landed job). */
  network: NetworkName;
  /**
   * The record that verifies: from the annotation, or from the copy in status when the annotation
   * is garbled (`garbled` says why); `why` when neither can be used.
   */
  record: { pending: PendingPost; garbled?: string } | { why: string };
  /** The value of the confirm-post annotation, when a person set one. */
  confirm?: string;
  /** Whether this resource prepared the record; undefined: cannot be told now. */
  own?: boolean;
  /** What the chain says of the post, or why it cannot be read now. */
  outcome?: PendingPostOutcome | { readError: string };
  /** With confirm-post=not-landed: whether the recorded job account exists. */
  exists?: boolean;
  /** When the post landed (or is confirmed to have): the job as read now, fresh. */
  landed?: JobView;
  /** This resource already took the landed job back for its price (its attempt says so). */
  takenBack?: boolean;
  /** Taken back and not found: whether a finalized read agrees it is closed or ended. */
  goneAtFinality?: boolean;
}

/** A NosanaJob being deleted, with no post in flight (finalize.ts). */
export interface DeleteWorld {
  stage: 'delete';
  /** The job to cancel; undefined when this resource has none. */
  address?: string;
  /** undefined: whether this resource posted it cannot be told now. */
  origin?: 'posted' | 'adopted';
  /** Read fresh. */
  job?: JobView;
  /** QUEUED: the market as read fresh (is it disabled, is the job in its queue). */
  market?: { disabled: boolean; queued: boolean };
  /** Read when the job looks ended or gone: whether a finalized read agrees (gone or COMPLETED). */
  settledAtFinality?: boolean;
}

/** A NosanaJob whose job has ended for good: nothing is read. */
export interface EndedWorld {
  stage: 'ended';
}

export type World = FollowWorld | PostWorld | SettleWorld | DeleteWorld | EndedWorld;

/** What the spec and the controller's settings say, already turned into numbers. */
export interface DecisionSettings {
  now: Date;
  generation?: number;
  /** The object's name, for the commands the messages suggest. */
  name?: string;
  /** spec.timeout in seconds, when set. */
  wantedTimeout?: bigint;
  /** spec.queueTimeout in milliseconds and as written, when set. */
  queueTimeout?: { ms: number; text: string };
  /** spec.maxCost in base units, when set. */
  maxCost?: bigint;
  allowPublicCredentials?: boolean;
  /** spec.node is set: the post goes to one node, not the queue. */
  toNode?: boolean;
  deletionPolicy?: 'Cancel' | 'Orphan';
  retries: number;
  deadNodeGraceMs: number;
  resultWaitMs: number;
  pollIntervalMs: number;
  logTailMaxBytes: number;
  /** The chain the ports reach, for messages; undefined when they could not be resolved. */
  network?: NetworkName;
}

/** How long a job may be missing before it counts as closed by someone else (a lagging RPC node). */
export const UNSEEN_GRACE_MS = 60_000;

/** Endings the operator causes, recorded in the attempt before it acts. */
export type IntendedEnding = 'QueueTimeout' | 'NodeQuit' | 'NodeSilent' | 'PriceAboveMaxCost' | 'Cancelled';

export type JobAction =
  | { kind: 'none' }
  // posting
  | { kind: 'post'; timeout: bigint; charge: bigint; attempt: number }
  | { kind: 'recordFound'; found: BoundJob }
  // a post in flight
  | { kind: 'restoreRecord'; pending: PendingPost }
  | { kind: 'rebroadcast'; pending: PendingPost }
  | { kind: 'land'; pending: PendingPost }
  | { kind: 'clearRecord'; takeBackSpend?: string }
  // a job on chain
  | { kind: 'delist'; ending: 'QueueTimeout' | 'PriceAboveMaxCost' | 'Cancelled' }
  | { kind: 'end'; ending: 'NodeSilent' | 'PriceAboveMaxCost' | 'Cancelled' }
  | { kind: 'recover'; ending: 'NodeQuit' | 'Cancelled' }
  | { kind: 'extend'; timeoutSeconds: bigint }
  | { kind: 'storeLogs'; ops: OpOutcome[] }
  | { kind: 'repost' }
  // deletion
  | { kind: 'removeFinalizer' };

/** An action that sends a transaction on an existing job. */
export type ChainAction = Extract<JobAction, { kind: 'delist' | 'end' | 'recover' }>;

export interface DecidedEvent {
  type: EventType;
  reason: string;
  note: string;
}

export interface Decision {
  status: NosanaJobStatus;
  action: JobAction;
  /** Look again after this long; undefined: nothing will change without an event. */
  requeueAfterMs?: number;
  /** Look again after the object's growing backoff delay (the world may fix itself). */
  backoff?: true;
  events: DecidedEvent[];
  /** The job has ended for this resource: stop polling it. */
  forget: boolean;
}

/** The working state of one decision: a copy of the status and what the decision adds to it. */
export class Draft {
  status: NosanaJobStatus;
  readonly events: DecidedEvent[] = [];
  readonly #settings: DecisionSettings;

  constructor(status: NosanaJobStatus, settings: DecisionSettings) {
    // A copy: the decision never changes what it was given.
    this.status = structuredClone(status);
    this.#settings = settings;
  }

  attempt(address: string): Attempt {
    const { status, attempt } = withAttempt(this.status, address, this.#settings.now);
    this.status = status;
    return attempt;
  }

  /** The attempt for `address` when the status has one; never adds it. */
  findAttempt(address: string): Attempt | undefined {
    return this.status.attempts?.find((attempt) => attempt.jobAddress === address);
  }

  updateAttempt(address: string, change: Partial<Attempt>): void {
    this.status = withAttemptChange(this.status, address, change, this.#settings.now);
  }

  /** Sets the phase; an Event only when phase or reason change (polls repeat the same observation). */
  moveTo(phase: NosanaJobPhase, reason: string, message: string, type: EventType = 'Normal'): void {
    const changed = isNewPhase(this.status, phase, reason);
    this.setPhase(phase, reason, message);
    if (changed) this.events.push({ type, reason, note: message });
  }

  /** Sets the phase without an Event (the caller records its own). */
  setPhase(phase: NosanaJobPhase, reason: string, message: string): void {
    this.status = applyPhase('NosanaJob', this.status, phase, reason, message, this.#settings.generation, this.#settings.now);
  }

  event(type: EventType, reason: string, note: string): void {
    this.events.push({ type, reason, note });
  }

  /** The decision: this draft's status and Events with `action`. */
  decided(action: JobAction, requeue: { afterMs?: number; backoff?: true; forget?: boolean } = {}): Decision {
    return {
      status: this.status,
      action,
      ...(requeue.afterMs === undefined ? {} : { requeueAfterMs: requeue.afterMs }),
      ...(requeue.backoff === undefined ? {} : { backoff: true }),
      events: this.events,
      forget: requeue.forget ?? false,
    };
  }
}

// A post lands within a few slots; look again soon rather than at the polling interval.
export function postingPollMs(settings: Pick<DecisionSettings, 'pollIntervalMs'>): number {
  return Math.min(settings.pollIntervalMs, 1_000);
}

/** The Posting phase's message, the same while the post waits to land (so waiting writes nothing). */
export function postingMessage(jobAddress: string): string {
  return `job ${jobAddress} was sent to the chain and is waiting to land (recorded in annotation ${PENDING_POST_ANNOTATION})`;
}
