// What the runner does next with a job's ops: one pure function of the plan, what was observed of
// each op's Kubernetes objects (and the runner's own marks on them), the clock and the job's
// deadline. It returns a list of actions; a thin layer performs them and calls again when the
// world changes. Deciding is level-based: the same world gives the same actions, and every action
// is safe to perform twice (objects have deterministic names, marks are overwritten).
//
// The semantics are the reference node's (NODE.md §2.1, §2.2, §2.5–2.7, §2.10), on Pods:
//
//   an op that …                                                      → action
//   could not be launched (literal, resource, API refusal)            → finish failed (exit 0 for a literal, else 2)
//   was asked to stop and has ended (or STOP_SETTLE_MS went by)       → finish with the status of the stop's cause
//   lost its Pod to the cluster (evicted, preempted, node lost, gone) → cluster-failure
//   waits to be scheduled past the scheduling bound                   → cluster-failure (unschedulable)
//   cannot pull its image (at once if permanent, else past a bound)   → stop (image-pull-error) → finish failed, exit 2
//   cannot create its container past a bound                          → stop (container-runtime-error) → finish failed, exit 2
//   had a resource download (init container) exit non-zero            → stop (resource-error) → finish failed, exit 2
//   ended by itself                                                   → finish success if exit 0, else failed (OOMKilled named)
//   runs while the job is past its deadline / stopped by the caller   → stop (job-expired → success / stopped → stopped)
//   has run past execution.timeout, counted from container start      → stop (op-timeout) → finish success
//   restarted beyond restart_tries (restart_policy on-failure)        → stop (restart-limit) → finish failed, last exit code
//   has stop_if_dependent_stops and a dependency of its group ended   → stop (dependency-ended) → finish stopped
//   waits, in the current group, with no depends_on                   → launch
//   waits, one dependency of its group is ready                       → launch (finish stopped instead when it has
//                                                                        stop_if_dependent_stops and a dependency already ended)
//   waits, its dependencies are ungrouped ops of earlier groups, all finished → launch
//
// Groups run strictly in order: the next starts (start-group, its launches) in the call in which
// every launched op of the current one has finished and nothing more of it can launch. Ops whose
// dependencies never became ready are never launched and stay `init` in the result, as on the
// reference node (it only launches a dependent on its dependency's startup success). No fail-fast:
// a failed op stops nothing but its stop_if_dependent_stops dependents. The flow ends (end-flow)
// after the last group, or — past the deadline or on the caller's stop — once every launched op
// has finished; it is `failed` if any op failed, else `success` (the newest node's rule, §2.6).
//
// A dependency is ready (§2.2) once its container started, or, when it has health checks, once
// its Pod was Ready (its startup checks passed). An exposed op without health checks is ready when
// it starts: the reference node never marks it ready, which leaves its dependents waiting forever.
//
// Cluster failures are a separate outcome because they are not the job's fault: `run` performs
// the action's `failOp` (the op fails with that reason); the node agent quits the job instead.
import type { PlannedOp, Plan } from './plan.ts';

// ---------------------------------------------------------------------------------------------
// Timing bounds

/**
 * How long a Pod may wait for a node. A node agent only takes a job it has GPUs for, so a long
 * wait means the cluster is wrong (taints, quota, a node gone); `run` on an autoscaled cluster
 * may need longer, hence a bound the caller can set.
 */
export const SCHEDULING_GIVE_UP_MS = 5 * 60_000;

/**
 * How long an image pull may keep failing before the op fails. The reference node fails on the
 * first error; the kubelet reports transient registry and network errors the same way and retries
 * with a growing back-off (10 s, 20 s, 40 s, 80 s …), so two minutes lets four retries happen.
 * Permanent errors (an invalid image name) fail at once.
 */
export const IMAGE_PULL_GIVE_UP_MS = 2 * 60_000;

/**
 * How long the kubelet may fail to create or start the container (CreateContainerConfigError,
 * CreateContainerError, RunContainerError) before the op fails like a runtime error on the node.
 */
export const CONTAINER_CREATE_GIVE_UP_MS = 60_000;

/**
 * How long after asking for a stop the op is recorded as finished even though its Pod has not
 * ended: Docker's stop waits 10 s before SIGKILL, the Pod's grace period is the same; beyond a
 * minute the Pod is stuck (its node is gone) and the job must not wait on it.
 */
export const STOP_SETTLE_MS = 60_000;

export interface TimingBounds {
  schedulingMs: number;
  imagePullMs: number;
  containerCreateMs: number;
  stopSettleMs: number;
}

export const DEFAULT_TIMING_BOUNDS: TimingBounds = {
  schedulingMs: SCHEDULING_GIVE_UP_MS,
  imagePullMs: IMAGE_PULL_GIVE_UP_MS,
  containerCreateMs: CONTAINER_CREATE_GIVE_UP_MS,
  stopSettleMs: STOP_SETTLE_MS,
};

/** Waiting reasons of a pull that will never succeed. */
const PERMANENT_PULL_REASONS = new Set(['InvalidImageName', 'ErrImageNeverPull']);
/** Waiting reasons of a failing pull the kubelet retries. */
const RETRIED_PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'RegistryUnavailable']);
/** Waiting reasons of a container the kubelet cannot create or start. */
const CONTAINER_CREATE_REASONS = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);
/** The kubelet waits before restarting a container that failed: it ended, and will run again. */
const RESTART_BACK_OFF_REASON = 'CrashLoopBackOff';

// ---------------------------------------------------------------------------------------------
// What is observed

/**
 * Where an op is, read from its objects:
 * - `waiting`: no object exists (never launched);
 * - `launched`: the object exists, its container has not started (scheduling, pulling, creating);
 * - `running`: the container has started and the op has not ended (also between restarts);
 * - `ready`: running, and the Pod's Ready condition is True (its health checks pass; a Pod
 *   without probes is Ready once its container runs);
 * - `ended`: for good — the Pod succeeded or failed, or was deleted after the runner asked it to
 *   stop; a create-volume op reads as ended (exit 0, startedAt = its creation) once its volume
 *   claim exists, which also makes it ready for its dependents;
 * - `failed-to-launch`: the runner could not create the object (see `launchFailure`).
 */
export type OpPhase = 'waiting' | 'launched' | 'running' | 'ready' | 'ended' | 'failed-to-launch';

/** The op statuses this module hands out; the result document's vocabulary (flow-state.ts) is wider. */
export type FinishedOpStatus = 'success' | 'failed' | 'stopped';

/** How a Pod was taken away by the cluster rather than by its container. */
export type ClusterLossCause = 'evicted' | 'preempted' | 'node-lost' | 'deleted';
export type ClusterFailureCause = ClusterLossCause | 'unschedulable';

/** Why the runner could not create an op's objects. */
export type LaunchFailureCause = 'unresolved-literal' | 'resource-error' | 'container-runtime-error';

/** Why the runner stopped an op; it decides the op's status (see statusAfterStop). */
export type StopCause =
  | { kind: 'job-expired' }
  | { kind: 'stopped' }
  | { kind: 'op-timeout'; timeoutSeconds: number }
  | { kind: 'dependency-ended'; dependency: string }
  | { kind: 'restart-limit'; restarts: number; restartTries: number; lastExitCode?: number }
  | { kind: 'image-pull-error'; message: string }
  | { kind: 'container-runtime-error'; message: string }
  | { kind: 'resource-error'; message: string }
  | { kind: 'cluster-failure'; cause: ClusterFailureCause; message: string };

/**
 * One op as the runner reads it from its Pod's status and events (or its volume claim), plus the
 * two marks the runner itself keeps on the op (`stopRequested`, `finished`). Times are ms epoch.
 */
export interface ObservedOp {
  phase: OpPhase;
  /** When the object was created (the Pod's creationTimestamp). */
  launchedAt?: number;
  /** Whether the Pod has a node (spec.nodeName / PodScheduled); unset when not known, which never fails it. */
  scheduled?: boolean;
  /** The scheduler's message while PodScheduled is False (reason Unschedulable). */
  unschedulableMessage?: string;
  /** The container's current waiting state, and since when that reason has been seen (first Event). */
  waiting?: { reason: string; message?: string; since?: number };
  /** The container's first start: the clock of execution.timeout starts here, not at the pull. */
  startedAt?: number;
  /** When the Pod was first seen Ready; kept by the runner, as the condition flips back on a failing check. */
  readyAt?: number;
  /** The container's restartCount. */
  restarts: number;
  endedAt?: number;
  /** The latest termination: the current one once ended, else the one before the last restart. */
  exitCode?: number;
  /** Its reason as the kubelet gives it: OOMKilled, Error, Completed, … */
  terminatedReason?: string;
  /** Filled from the Pod's DisruptionTarget condition, its status reason, the node's state, or its absence. */
  clusterLoss?: { cause: ClusterLossCause; message: string };
  /** A resource download (an init container) exited non-zero before the op's container started. */
  downloadFailure?: string;
  /** Set with phase `failed-to-launch`. */
  launchFailure?: { cause: LaunchFailureCause; message: string };
  /** The runner's mark, written before it deletes the Pod: why, and when it asked. */
  stopRequested?: { cause: StopCause; at: number };
  /** The runner's mark once it recorded the op's end (a `finish` performed): the op is settled. */
  finished?: FinishedOpStatus;
}

export interface RunWorld {
  plan: Plan;
  /** By op id; an op missing here has no object yet (phase `waiting`). */
  ops: Readonly<Record<string, ObservedOp>>;
  now: number;
  /** The job's deadline (run start + job timeout); it moves later when the job is extended. */
  deadline?: number;
  /** The caller stopped the job (Ctrl-C, or the job stopped on chain): every op stops, status stopped. */
  jobStopped?: boolean;
  bounds?: Partial<TimingBounds>;
}

// ---------------------------------------------------------------------------------------------
// Actions

export interface StopAction {
  kind: 'stop';
  opId: string;
  /** Keep it on the op (stopRequested, with the time), then delete the op's Pod. */
  cause: StopCause;
}

export interface FinishAction {
  kind: 'finish';
  opId: string;
  status: FinishedOpStatus;
  exitCode?: number;
  endedAt?: number;
  /** The diagnostics reason text, when the op did not simply exit. */
  reason?: string;
  /** Set when the runner stopped the op; the result's diagnostics flags follow from it. */
  cause?: StopCause;
  /** An entry for the op's `errors` (§2.5). */
  error?: { event: 'image-pull-error' | 'resource-error' | 'container-runtime-error' | 'operation-error'; message: string };
  /** A node-side message the result shows as a `nodeerr` log (an unresolved literal). */
  nodeLog?: string;
}

export interface ClusterFailureAction {
  kind: 'cluster-failure';
  opId: string;
  cause: ClusterFailureCause;
  message: string;
  /** What `run` performs: stop the op; it then finishes as failed with this reason. */
  failOp: StopAction;
}

export type RunnerAction =
  | { kind: 'start-group'; group: string }
  | { kind: 'launch'; opId: string }
  | StopAction
  | FinishAction
  | ClusterFailureAction
  | { kind: 'end-flow'; status: 'success' | 'failed' };

// ---------------------------------------------------------------------------------------------
// Finishing

const NOT_LAUNCHED: ObservedOp = { phase: 'waiting', restarts: 0 };

/** A runtime error (pull, resource, create/start) gets exit code 2 on the reference node (§2.5). */
const RUNTIME_ERROR_EXIT_CODE = 2;

/** An op the runner cut short: expiry is paid work, a stop is the owner's, the rest are failures (§2.5, §2.7). */
export function statusAfterStop(cause: StopCause): FinishedOpStatus {
  switch (cause.kind) {
    case 'job-expired':
    case 'op-timeout':
      return 'success';
    case 'stopped':
    case 'dependency-ended':
      return 'stopped';
    case 'restart-limit':
    case 'image-pull-error':
    case 'container-runtime-error':
    case 'resource-error':
    case 'cluster-failure':
      return 'failed';
  }
}

function stopReasonText(cause: StopCause): string {
  switch (cause.kind) {
    case 'job-expired':
      return 'the job reached its deadline';
    case 'stopped':
      return 'the job was stopped';
    case 'op-timeout':
      return `stopped after exceeding its execution.timeout of ${cause.timeoutSeconds}s`;
    case 'dependency-ended':
      return `stopped because ${JSON.stringify(cause.dependency)} ended (stop_if_dependent_stops)`;
    case 'restart-limit':
      return `failed again after ${cause.restarts} restarts; restart_tries allows ${cause.restartTries}`;
    case 'image-pull-error':
    case 'container-runtime-error':
    case 'resource-error':
      return cause.message;
    case 'cluster-failure':
      return `${cause.cause}: ${cause.message}`;
  }
}

function finishAfterStop(op: PlannedOp, observed: ObservedOp, cause: StopCause): FinishAction {
  const exitCode =
    cause.kind === 'image-pull-error' || cause.kind === 'container-runtime-error' || cause.kind === 'resource-error'
      ? RUNTIME_ERROR_EXIT_CODE
      : cause.kind === 'restart-limit'
        ? cause.lastExitCode
        : observed.exitCode;
  return {
    kind: 'finish',
    opId: op.id,
    status: statusAfterStop(cause),
    ...(exitCode === undefined ? {} : { exitCode }),
    ...(observed.endedAt === undefined ? {} : { endedAt: observed.endedAt }),
    reason: stopReasonText(cause),
    cause,
    ...(cause.kind === 'image-pull-error' || cause.kind === 'container-runtime-error' || cause.kind === 'resource-error'
      ? { error: { event: cause.kind, message: cause.message } }
      : {}),
    // The result's vocabulary has no word for the cluster's failure; the message says what it was.
    ...(cause.kind === 'cluster-failure' ? { error: { event: 'operation-error' as const, message: stopReasonText(cause) } } : {}),
  };
}

function finishAfterExit(op: PlannedOp, observed: ObservedOp): FinishAction {
  return {
    kind: 'finish',
    opId: op.id,
    status: observed.exitCode === 0 ? 'success' : 'failed',
    ...(observed.exitCode === undefined ? {} : { exitCode: observed.exitCode }),
    ...(observed.endedAt === undefined ? {} : { endedAt: observed.endedAt }),
    ...(observed.terminatedReason === 'OOMKilled' ? { reason: 'ran out of memory (OOMKilled)' } : {}),
  };
}

function finishAfterLaunchFailure(op: PlannedOp, failure: NonNullable<ObservedOp['launchFailure']>): FinishAction {
  // An unresolved literal fails the op before it runs, with exit code 0 and a nodeerr log (§1.10, §2.5).
  if (failure.cause === 'unresolved-literal') {
    return { kind: 'finish', opId: op.id, status: 'failed', exitCode: 0, reason: failure.message, nodeLog: failure.message };
  }
  return {
    kind: 'finish',
    opId: op.id,
    status: 'failed',
    exitCode: RUNTIME_ERROR_EXIT_CODE,
    reason: failure.message,
    error: { event: failure.cause, message: failure.message },
  };
}

function clusterFailure(op: PlannedOp, cause: ClusterFailureCause, message: string): ClusterFailureAction {
  return {
    kind: 'cluster-failure',
    opId: op.id,
    cause,
    message,
    failOp: { kind: 'stop', opId: op.id, cause: { kind: 'cluster-failure', cause, message } },
  };
}

// ---------------------------------------------------------------------------------------------
// Deciding

type InFlightAction = StopAction | FinishAction | ClusterFailureAction;

interface Judgement {
  now: number;
  bounds: TimingBounds;
  /** Set when the job is ending: past its deadline, stopped by the caller, or a stop of either kind already under way. */
  ending: StopCause | undefined;
  observed: (op: PlannedOp) => ObservedOp;
  byId: ReadonlyMap<string, PlannedOp>;
  /** Each group's position in the running order. */
  groupOrder: ReadonlyMap<string, number>;
}

function waitingTooLong(observed: ObservedOp, now: number, bound: number): boolean {
  const since = observed.waiting?.since ?? observed.launchedAt;
  return since !== undefined && now - since >= bound;
}

/** The rule for a launch that has not worked out yet: a Pod that waits for a node, an image, a container. */
function judgeLaunched(op: PlannedOp, observed: ObservedOp, judgement: Judgement): InFlightAction | undefined {
  const { now, bounds } = judgement;
  if (observed.scheduled === false && observed.launchedAt !== undefined && now - observed.launchedAt >= bounds.schedulingMs) {
    const minutes = Math.round(bounds.schedulingMs / 60_000);
    const message = `not scheduled within ${minutes} min${observed.unschedulableMessage === undefined ? '' : `: ${observed.unschedulableMessage}`}`;
    return clusterFailure(op, 'unschedulable', message);
  }
  const waiting = observed.waiting;
  if (waiting === undefined) return undefined;
  const detail = `${waiting.reason}${waiting.message === undefined ? '' : `: ${waiting.message}`}`;
  if (
    PERMANENT_PULL_REASONS.has(waiting.reason) ||
    (RETRIED_PULL_REASONS.has(waiting.reason) && waitingTooLong(observed, now, bounds.imagePullMs))
  ) {
    return { kind: 'stop', opId: op.id, cause: { kind: 'image-pull-error', message: detail } };
  }
  if (CONTAINER_CREATE_REASONS.has(waiting.reason) && waitingTooLong(observed, now, bounds.containerCreateMs)) {
    return { kind: 'stop', opId: op.id, cause: { kind: 'container-runtime-error', message: detail } };
  }
  return undefined;
}

function restartLimitReached(op: PlannedOp, observed: ObservedOp): boolean {
  if (op.restartTries === undefined || observed.startedAt === undefined) return false;
  // Docker stops after `restart_tries` restarts; the kubelet would restart once more, so the op is
  // stopped when its last allowed run has failed (waiting to restart) or a further run began.
  return (
    observed.restarts > op.restartTries || (observed.restarts === op.restartTries && observed.waiting?.reason === RESTART_BACK_OFF_REASON)
  );
}

/** Whether a dependency has finished, for stop_if_dependent_stops: ended, failed to launch, or recorded. */
function hasEnded(observed: ObservedOp, finishing: ReadonlyMap<string, FinishedOpStatus>, id: string): boolean {
  return observed.finished !== undefined || finishing.has(id) || observed.phase === 'ended' || observed.phase === 'failed-to-launch';
}

/** The one action for an op that has an object or a launch failure and is not finished yet. */
function judgeInFlight(
  op: PlannedOp,
  observed: ObservedOp,
  judgement: Judgement,
  finishing: ReadonlyMap<string, FinishedOpStatus>,
): InFlightAction | undefined {
  const { now, bounds } = judgement;
  if (observed.phase === 'failed-to-launch') {
    return finishAfterLaunchFailure(
      op,
      observed.launchFailure ?? { cause: 'container-runtime-error', message: 'the op could not be launched' },
    );
  }
  const stop = observed.stopRequested;
  if (stop !== undefined) {
    // Ended, or its object already gone, or stuck past the bound (its node is gone): record it.
    const over = observed.phase === 'ended' || observed.phase === 'waiting' || now - stop.at >= bounds.stopSettleMs;
    return over ? finishAfterStop(op, observed, stop.cause) : undefined;
  }
  if (observed.clusterLoss !== undefined) return clusterFailure(op, observed.clusterLoss.cause, observed.clusterLoss.message);
  // A download that failed fails the op, as on the node, whether the kubelet gave up on the Pod
  // (restartPolicy Never) or would retry it for ever (OnFailure, Always).
  if (observed.downloadFailure !== undefined && observed.startedAt === undefined) {
    return { kind: 'stop', opId: op.id, cause: { kind: 'resource-error', message: observed.downloadFailure } };
  }
  if (observed.phase === 'ended') return finishAfterExit(op, observed);
  if (observed.phase === 'launched') {
    const action = judgeLaunched(op, observed, judgement);
    if (action !== undefined) return action;
  }
  if (judgement.ending !== undefined) return { kind: 'stop', opId: op.id, cause: judgement.ending };
  if (op.timeoutSeconds !== undefined && observed.startedAt !== undefined && now >= observed.startedAt + op.timeoutSeconds * 1000) {
    return { kind: 'stop', opId: op.id, cause: { kind: 'op-timeout', timeoutSeconds: op.timeoutSeconds } };
  }
  if (restartLimitReached(op, observed)) {
    return {
      kind: 'stop',
      opId: op.id,
      cause: {
        kind: 'restart-limit',
        restarts: observed.restarts,
        restartTries: op.restartTries ?? 0,
        ...(observed.exitCode === undefined ? {} : { lastExitCode: observed.exitCode }),
      },
    };
  }
  if (op.stopIfDependentStops) {
    const ended = sameGroupDependencies(op, judgement).find((dependency) =>
      hasEnded(judgement.observed(dependency), finishing, dependency.id),
    );
    if (ended !== undefined) return { kind: 'stop', opId: op.id, cause: { kind: 'dependency-ended', dependency: ended.id } };
  }
  return undefined;
}

function sameGroupDependencies(op: PlannedOp, judgement: Judgement): PlannedOp[] {
  return op.dependsOn.flatMap((id) => {
    const dependency = judgement.byId.get(id);
    return dependency !== undefined && dependency.group === op.group ? [dependency] : [];
  });
}

/**
 * Ready for its dependents (§2.2): started, or — when health checks gate it — seen Ready. When
 * literals decide the exposed ports, only the Pod's Ready condition knows whether checks apply.
 */
function isReadyForDependents(op: PlannedOp, observed: ObservedOp): boolean {
  if (observed.phase === 'ready' || observed.readyAt !== undefined) return true;
  const gatedByChecks = op.hasHealthChecks || op.exposeResolvedAtLaunch;
  return !gatedByChecks && observed.startedAt !== undefined;
}

type WaitingVerdict = { verdict: 'launch' } | { verdict: 'wait' } | { verdict: 'skip-stopped'; dependency: string };

/** Whether an op without an object starts now; `skip-stopped`: it would be stopped the moment it started. */
function judgeWaiting(op: PlannedOp, judgement: Judgement, finishing: ReadonlyMap<string, FinishedOpStatus>): WaitingVerdict {
  if (op.dependsOn.length === 0) return { verdict: 'launch' };
  const inGroup = sameGroupDependencies(op, judgement);
  if (inGroup.length === 0) {
    // Ungrouped ops may depend on each other (§1.8) though each is its own group: a dependency
    // that ran in an earlier group must have finished; one in a later group has not run yet.
    const ownOrder = judgement.groupOrder.get(op.group) ?? 0;
    const allFinished = op.dependsOn.every((id) => {
      const dependency = judgement.byId.get(id);
      if (dependency === undefined || (judgement.groupOrder.get(dependency.group) ?? 0) >= ownOrder) return false;
      return judgement.observed(dependency).finished !== undefined || finishing.has(id);
    });
    return allFinished ? { verdict: 'launch' } : { verdict: 'wait' };
  }
  if (!inGroup.some((dependency) => isReadyForDependents(dependency, judgement.observed(dependency)))) return { verdict: 'wait' };
  const ended = op.stopIfDependentStops
    ? inGroup.find((dependency) => hasEnded(judgement.observed(dependency), finishing, dependency.id))
    : undefined;
  return ended === undefined ? { verdict: 'launch' } : { verdict: 'skip-stopped', dependency: ended.id };
}

function endingCause(world: RunWorld, observed: (op: PlannedOp) => ObservedOp): StopCause | undefined {
  if (world.jobStopped === true) return { kind: 'stopped' };
  if (world.deadline !== undefined && world.now >= world.deadline) return { kind: 'job-expired' };
  // A job-wide stop already under way stays under way, even if the deadline has since moved later.
  for (const op of world.plan.ops) {
    const kind = observed(op).stopRequested?.cause.kind;
    if (kind === 'stopped' || kind === 'job-expired') return { kind };
  }
  return undefined;
}

/** No object and no stop under way: the op has not been launched (or its launch is not visible yet). */
function notLaunched(state: ObservedOp): boolean {
  return state.phase === 'waiting' && state.stopRequested === undefined;
}

/**
 * The actions for this moment, in this order: finishes, stops, cluster failures (each by op
 * index), then start-group, launches, end-flow. Each op gets at most one action per call.
 */
export function decideRun(world: RunWorld): RunnerAction[] {
  const { plan } = world;
  const observed = (op: PlannedOp): ObservedOp => world.ops[op.id] ?? NOT_LAUNCHED;
  const judgement: Judgement = {
    now: world.now,
    bounds: { ...DEFAULT_TIMING_BOUNDS, ...world.bounds },
    ending: endingCause(world, observed),
    observed,
    byId: new Map(plan.ops.map((op) => [op.id, op])),
    groupOrder: new Map(plan.groups.map((group, order) => [group.name, order])),
  };

  const finishes: FinishAction[] = [];
  const stops: StopAction[] = [];
  const clusterFailures: ClusterFailureAction[] = [];
  const finishing = new Map<string, FinishedOpStatus>();
  const finish = (action: FinishAction): void => {
    finishes.push(action);
    finishing.set(action.opId, action.status);
  };

  for (const op of plan.ops) {
    const state = observed(op);
    if (state.finished !== undefined || notLaunched(state)) continue;
    const action = judgeInFlight(op, state, judgement, finishing);
    if (action?.kind === 'finish') finish(action);
    else if (action?.kind === 'stop') stops.push(action);
    else if (action?.kind === 'cluster-failure') clusterFailures.push(action);
  }

  const settled = (op: PlannedOp): boolean => observed(op).finished !== undefined || finishing.has(op.id);
  const inFlight = (op: PlannedOp): boolean => !notLaunched(observed(op)) && !settled(op);
  const waiting = (op: PlannedOp): boolean => notLaunched(observed(op)) && !settled(op);

  const launches: RunnerAction[] = [];
  let flowDone = !plan.ops.some(inFlight);
  if (judgement.ending === undefined) {
    // The current group is the first one with something in flight or something to launch.
    for (const group of plan.groups) {
      const ops = plan.ops.filter((op) => op.group === group.name);
      const fresh = ops.every(waiting);
      const groupLaunches: RunnerAction[] = [];
      for (const op of ops.filter(waiting)) {
        const verdict = judgeWaiting(op, judgement, finishing);
        if (verdict.verdict === 'launch') groupLaunches.push({ kind: 'launch', opId: op.id });
        if (verdict.verdict === 'skip-stopped') {
          const cause: StopCause = { kind: 'dependency-ended', dependency: verdict.dependency };
          finish({ kind: 'finish', opId: op.id, status: 'stopped', reason: stopReasonText(cause), cause });
        }
      }
      if (groupLaunches.length === 0 && !ops.some(inFlight)) continue;
      if (fresh && groupLaunches.length > 0) launches.push({ kind: 'start-group', group: group.name });
      launches.push(...groupLaunches);
      flowDone = false;
      break;
    }
  }

  const byIndex = (a: FinishAction, b: FinishAction): number =>
    (judgement.byId.get(a.opId)?.index ?? 0) - (judgement.byId.get(b.opId)?.index ?? 0);
  const actions: RunnerAction[] = [...finishes.sort(byIndex), ...stops, ...clusterFailures, ...launches];
  if (flowDone) {
    const failed = plan.ops.some((op) => (observed(op).finished ?? finishing.get(op.id)) === 'failed');
    actions.push({ kind: 'end-flow', status: failed ? 'failed' : 'success' });
  }
  return actions;
}
