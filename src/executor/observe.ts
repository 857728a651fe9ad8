// What the runner's decision sees of an op: its Pod (as the informer holds it) and the runner's own
// marks, read into an ObservedOp (decide-run.ts). Kept apart from the runner so that every reading
// of a kubelet's status — the simulated one of the local cluster and a real one — is a table test.
//
// Some facts outlive a single look, so the runner keeps marks across calls and this module returns
// them updated: when the Pod was first Ready (the condition flips back on a failing check), since
// when each waiting reason has been seen (the give-up bounds count from it), the container's first
// start (execution.timeout counts from it, not from the latest restart), and the last reading of
// the Pod, which is all that remains known once the Pod is gone.
//
// A Pod taken by the cluster is not the job's fault: evictions, preemptions, lost nodes and
// deletions by anyone but the runner are read as a cluster loss. A Pod the kubelet refused to
// admit (UnexpectedAdmissionError from a device plugin, OutOfnvidia.com/gpu, …) reads as evicted:
// its container never ran. A deletion asked for after the container had already ended is no loss.
import type { V1ContainerStatus, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import { OP_CONTAINER_NAME } from './build-pod.ts';
import type { ClusterLossCause, ObservedOp } from './decide-run.ts';

/**
 * How long a Pod the runner created may stay invisible (the informer lags its own create) before
 * its absence means someone deleted it.
 */
export const POD_APPEARANCE_GRACE_MS = 30_000;

/** What the runner keeps per op between observations; times are ms epoch. */
export interface RunnerMarks {
  /** When the runner created the op's objects. */
  launchedAt?: number;
  /** The first time the Pod's Ready condition was seen True. */
  readyAt?: number;
  /** The first time each waiting reason was seen. */
  waitingSince?: Record<string, number>;
  stopRequested?: ObservedOp['stopRequested'];
  finished?: ObservedOp['finished'];
  launchFailure?: ObservedOp['launchFailure'];
  /** The last reading of the Pod while it existed, without the runner's marks. */
  lastSeen?: ObservedOp;
  /** The first time the Pod was found gone after it was launched. */
  goneAt?: number;
  /**
   * The runner deleted the Pod to restart the op (a failed `restart_on_failure` check the kubelet
   * could not perform): the op runs on, between two Pods, until the new one is seen.
   */
  replacing?: { uid: string; at: number; recreated?: boolean };
}

const NOT_SEEN: ObservedOp = { phase: 'waiting', restarts: 0 };

export interface Observation {
  observed: ObservedOp;
  marks: RunnerMarks;
}

/** The op as the decision sees it, and the marks to keep for the next call. */
export function observePod(pod: V1Pod | undefined, marks: RunnerMarks, now: number): Observation {
  const runnerMarks = compact<Pick<ObservedOp, 'stopRequested' | 'finished'>>({
    stopRequested: marks.stopRequested,
    finished: marks.finished,
  });
  if (marks.launchFailure !== undefined) {
    return { observed: { phase: 'failed-to-launch', restarts: 0, launchFailure: marks.launchFailure, ...runnerMarks }, marks };
  }
  if (marks.replacing !== undefined && marks.stopRequested === undefined) {
    if (pod === undefined || pod.metadata?.uid === marks.replacing.uid) {
      const seen = marks.lastSeen ?? NOT_SEEN;
      const between = compact<ObservedOp>({
        phase: 'running',
        launchedAt: seen.launchedAt ?? marks.launchedAt,
        scheduled: seen.scheduled,
        startedAt: seen.startedAt,
        readyAt: marks.readyAt,
        restarts: seen.restarts,
      });
      return { observed: { ...between, ...runnerMarks }, marks };
    }
    // The new Pod is there: read it like any other, keeping the first start.
    const { replacing: _replacing, goneAt: _goneAt, waitingSince: _waitingSince, ...kept } = marks;
    marks = kept;
  }
  if (pod === undefined) {
    const { facts, marks: next } = readAbsence(marks, now);
    return { observed: { ...facts, ...runnerMarks }, marks: next };
  }
  const facts = readPod(pod, marks, now);
  const waitingSince =
    facts.waiting === undefined || marks.waitingSince?.[facts.waiting.reason] !== undefined
      ? marks.waitingSince
      : { ...marks.waitingSince, [facts.waiting.reason]: now };
  const next = compact<RunnerMarks>({
    ...marks,
    launchedAt: marks.launchedAt ?? facts.launchedAt,
    readyAt: facts.readyAt,
    waitingSince,
    lastSeen: facts,
  });
  return { observed: { ...facts, ...runnerMarks }, marks: next };
}

/** A create-volume op has no Pod: it ends, successfully, the moment its claim exists (§2.2). */
export function podPhaseForVolume(claimExists: boolean, createdAt?: number): ObservedOp {
  if (!claimExists) return { phase: 'waiting', restarts: 0 };
  return compact<ObservedOp>({ phase: 'ended', launchedAt: createdAt, startedAt: createdAt, endedAt: createdAt, restarts: 0, exitCode: 0 });
}

// ---------------------------------------------------------------------------------------------
// No Pod

function readAbsence(marks: RunnerMarks, now: number): { facts: ObservedOp; marks: RunnerMarks } {
  const ownDeletion = marks.stopRequested !== undefined;
  const seen = marks.lastSeen;
  if (!ownDeletion && seen === undefined) {
    if (marks.launchedAt === undefined) return { facts: { phase: 'waiting', restarts: 0 }, marks };
    if (now - marks.launchedAt < POD_APPEARANCE_GRACE_MS)
      return { facts: { phase: 'launched', launchedAt: marks.launchedAt, restarts: 0 }, marks };
  }
  const goneAt = marks.goneAt ?? now;
  const { phase: _phase, waiting: _waiting, unschedulableMessage: _message, ...known } = seen ?? NOT_SEEN;
  // Gone on its own after it ended by itself is no loss; gone while alive is, unless the runner deleted it.
  const endedByItself = seen?.phase === 'ended' && seen.clusterLoss === undefined;
  const clusterLoss = ownDeletion || endedByItself ? seen?.clusterLoss : (seen?.clusterLoss ?? loss('deleted', 'the Pod disappeared'));
  const launchedAt = known.launchedAt ?? marks.launchedAt;
  const facts = compact<ObservedOp>({ ...known, phase: 'ended', launchedAt, endedAt: seen?.endedAt ?? goneAt, clusterLoss });
  return { facts, marks: { ...marks, goneAt } };
}

// ---------------------------------------------------------------------------------------------
// A Pod

function readPod(pod: V1Pod, marks: RunnerMarks, now: number): ObservedOp {
  const status = pod.status ?? {};
  const condition = (type: string): V1PodCondition | undefined => status.conditions?.find((candidate) => candidate.type === type);
  const container = opContainer(status.containerStatuses);
  const state = container?.state;
  // The current termination, or the one before the latest restart.
  const termination = state?.terminated ?? container?.lastState?.terminated;
  const podScheduled = condition('PodScheduled');
  const scheduled = (pod.spec?.nodeName ?? '') !== '' || podScheduled?.status === 'True';

  const currentStart = toMs(state?.running?.startedAt) ?? toMs(termination?.startedAt);
  const startedAt = earliest(marks.lastSeen?.startedAt, currentStart);
  const ended =
    status.phase === 'Succeeded' || status.phase === 'Failed' || (state?.terminated !== undefined && pod.spec?.restartPolicy === 'Never');
  const readyAt = marks.readyAt ?? (condition('Ready')?.status === 'True' ? now : undefined);
  const phase = ended
    ? 'ended'
    : startedAt === undefined
      ? 'launched'
      : state?.running !== undefined && condition('Ready')?.status === 'True'
        ? 'ready'
        : 'running';

  // Before the op container starts, a failing init container (a resource download) is what it waits for.
  const initFailure = startedAt === undefined ? initContainerFailure(status.initContainerStatuses) : undefined;
  const waitingState =
    state?.waiting?.reason === 'PodInitializing' && initFailure?.waiting !== undefined ? initFailure.waiting : state?.waiting;
  const waiting =
    ended || waitingState?.reason === undefined
      ? undefined
      : compact<NonNullable<ObservedOp['waiting']>>({
          reason: waitingState.reason,
          message: waitingState.message,
          since: marks.waitingSince?.[waitingState.reason] ?? now,
        });
  const lastTermination = termination ?? (ended ? initFailure?.terminated : undefined);
  const endedAt = ended ? (toMs(lastTermination?.finishedAt) ?? marks.lastSeen?.endedAt ?? now) : undefined;

  return compact<ObservedOp>({
    phase,
    launchedAt: toMs(pod.metadata?.creationTimestamp) ?? marks.launchedAt,
    scheduled,
    unschedulableMessage: scheduled || podScheduled?.status !== 'False' ? undefined : podScheduled.message,
    waiting,
    startedAt,
    readyAt,
    restarts: container?.restartCount ?? 0,
    endedAt,
    exitCode: lastTermination?.exitCode,
    terminatedReason: lastTermination?.reason,
    downloadFailure: startedAt === undefined ? downloadFailure(status.initContainerStatuses) : undefined,
    clusterLoss: clusterLossOf(pod, condition('DisruptionTarget'), {
      ownDeletion: marks.stopRequested !== undefined,
      startedAt,
    }),
  });
}

function opContainer(statuses: V1ContainerStatus[] | undefined): V1ContainerStatus | undefined {
  return statuses?.find((status) => status.name === OP_CONTAINER_NAME) ?? statuses?.[0];
}

/** The first init container that waits for something other than its turn, or failed. */
function initContainerFailure(statuses: V1ContainerStatus[] | undefined): V1ContainerStatus['state'] | undefined {
  const failing = statuses?.find(
    ({ state }) => (state?.waiting?.reason ?? 'PodInitializing') !== 'PodInitializing' || (state?.terminated?.exitCode ?? 0) !== 0,
  );
  const waiting = failing?.state?.waiting;
  if (failing === undefined || waiting === undefined) return failing?.state;
  return { waiting: { ...waiting, message: `${failing.name}: ${waiting.message ?? waiting.reason ?? ''}` } };
}

/** The first init container (a resource download) that exited non-zero, now or in its last run. */
function downloadFailure(statuses: V1ContainerStatus[] | undefined): string | undefined {
  for (const status of statuses ?? []) {
    const terminated = [status.state?.terminated, status.lastState?.terminated].find(
      (state) => state !== undefined && state.exitCode !== 0,
    );
    if (terminated === undefined) continue;
    const said = (terminated.message ?? terminated.reason ?? '').trim();
    return `${status.name} exited with code ${terminated.exitCode}${said === '' ? '' : `: ${said}`}`;
  }
  return undefined;
}

/** DisruptionTarget reasons: who took the Pod away. */
const DISRUPTION_CAUSES = new Map<string, ClusterLossCause>([
  ['PreemptionByScheduler', 'preempted'],
  ['DeletionByTaintManager', 'node-lost'],
  ['DeletionByPodGC', 'node-lost'],
  ['EvictionByEvictionAPI', 'evicted'],
  ['TerminationByKubelet', 'evicted'],
]);
/** Pod status reasons of the same. */
const STATUS_REASON_CAUSES = new Map<string, ClusterLossCause>([
  ['Evicted', 'evicted'],
  ['Preempting', 'preempted'],
  ['NodeLost', 'node-lost'],
]);

function clusterLossOf(
  pod: V1Pod,
  disruption: V1PodCondition | undefined,
  context: { ownDeletion: boolean; startedAt: number | undefined },
): ObservedOp['clusterLoss'] {
  const status = pod.status ?? {};
  const statusCause = STATUS_REASON_CAUSES.get(status.reason ?? '');
  if (statusCause !== undefined) return loss(statusCause, status.message ?? status.reason ?? '');
  const disruptionCause = disruption?.status === 'True' ? DISRUPTION_CAUSES.get(disruption.reason ?? '') : undefined;
  if (disruptionCause !== undefined) return loss(disruptionCause, disruption?.message ?? disruption?.reason ?? '');
  if (status.phase === 'Failed' && status.reason !== undefined && context.startedAt === undefined) {
    return loss('evicted', `the node refused the Pod (${status.reason})${status.message === undefined ? '' : `: ${status.message}`}`);
  }
  const deletionAt = toMs(pod.metadata?.deletionTimestamp);
  if (deletionAt === undefined || context.ownDeletion) return undefined;
  // deletionTimestamp is the end of the grace period; the deletion was asked for that much earlier.
  const askedAt = deletionAt - (pod.metadata?.deletionGracePeriodSeconds ?? 0) * 1000;
  const finishedAt = toMs(opContainer(status.containerStatuses)?.state?.terminated?.finishedAt);
  return finishedAt !== undefined && finishedAt <= askedAt
    ? undefined
    : loss('deleted', 'the Pod was deleted by someone other than the runner');
}

// ---------------------------------------------------------------------------------------------
// Helpers

function loss(cause: ClusterLossCause, message: string): NonNullable<ObservedOp['clusterLoss']> {
  return { cause, message };
}

/** Timestamps arrive as strings from a watch and as Dates from the client's deserializer; the zero time means never. */
function toMs(time: Date | string | undefined): number | undefined {
  if (time === undefined) return undefined;
  const ms = time instanceof Date ? time.getTime() : Date.parse(time);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

/** The object without its undefined fields (exactOptionalPropertyTypes forbids them). */
function compact<T extends object>(fields: { [Key in keyof T]: T[Key] | undefined }): T {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as T;
}
